"""Settings on /admin/settings: each explained, each validated, each change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveys.models import AuditEntry
from surveys.services.settings import (
    SPECS,
    SettingError,
    all_settings,
    get_setting,
    page_specs,
    set_setting,
)
from tests.factories import make_user
from tests.pages import page, text_of
from tests.web import csrf_token, log_in


def current_form(session) -> dict[str, str]:
    values = all_settings(session)
    return {spec.key: str(values[spec.key]) for spec in page_specs()}


def post_settings(client, session, **changes):
    data = {**current_form(session), **changes, "csrf_token": csrf_token(client, "/admin/settings")}
    return client.post("/admin/settings", data=data)


def test_the_page_shows_every_setting_with_its_explanation(admin_client):
    shown = page(admin_client.get("/admin/settings"))
    for key in (
        "survey_delay_minutes",
        "reminder_delay_hours",
        "throttle_days",
        "age_limit_days",
        "quiet_hours_start",
        "quiet_hours_end",
        "acknowledge_hours",
        "resolve_hours",
        "sender_name",
        "thank_you_message",
    ):
        field = shown.field(key)
        # The explanation is the field's description, read out with it.
        assert field["aria-describedby"] == f"{key}-hint"
        assert text_of(shown.by_id(f"{key}-hint")).startswith(str(SPECS[key].explanation))
    assert "0 turns reminders off" in shown.text
    assert shown.field_value("reminder_delay_hours") == "72"


def test_saving_changes_only_what_changed_and_audits_each_change(admin_client, session, admin):
    response = post_settings(
        admin_client,
        session,
        reminder_delay_hours="0",
        quiet_hours_start="22:30",
        sender_name="Lena at Lumen Lamps",
    )
    assert response.status_code == 302
    assert get_setting(session, "reminder_delay_hours") == 0
    assert get_setting(session, "quiet_hours_start") == "22:30"
    assert get_setting(session, "sender_name") == "Lena at Lumen Lamps"
    assert get_setting(session, "throttle_days") == 30
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target, e.before, e.after, e.actor_user_id) for e in entries] == [
        (
            "setting.changed",
            "setting reminder_delay_hours",
            {"reminder_delay_hours": 72},
            {"reminder_delay_hours": 0},
            admin.id,
        ),
        (
            "setting.changed",
            "setting quiet_hours_start",
            {"quiet_hours_start": "21:00"},
            {"quiet_hours_start": "22:30"},
            admin.id,
        ),
        (
            "setting.changed",
            "setting sender_name",
            {"sender_name": ""},
            {"sender_name": "Lena at Lumen Lamps"},
            admin.id,
        ),
    ]
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert "Saved: Reminder delay (hours), Quiet hours start, and Sender name." in page

    assert post_settings(admin_client, session).status_code == 302
    assert len(session.scalars(select(AuditEntry)).all()) == 3
    assert "Nothing changed." in admin_client.get("/admin/settings").get_data(as_text=True)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("survey_delay_minutes", "-1", "Enter 0 or more."),
        ("survey_delay_minutes", "soon", "Enter a whole number."),
        ("reminder_delay_hours", "100000", "Enter at most 672."),
        ("throttle_days", "1.5", "Enter a whole number."),
        ("age_limit_days", "0", "Enter 1 or more."),
        ("quiet_hours_start", "25:00", "Enter a time of day as HH:MM, for example 08:30."),
        ("quiet_hours_end", "8am", "Enter a time of day as HH:MM, for example 08:30."),
        ("quiet_hours_end", "21:00", "Quiet hours must end at a different time than they start."),
        ("acknowledge_hours", "0", "Enter 1 or more."),
        ("resolve_hours", "2", "The resolve target cannot be shorter than the acknowledge target."),
        ("shop_name", "", "This cannot be empty."),
        (
            "sender_name",
            "Evil <x@evil.test>",
            "Use one plain line, without quotes or angle brackets.",
        ),
        ("thank_you_message", "x" * 1001, "Keep it to 1000 characters or fewer."),
    ],
)
def test_a_value_out_of_range_is_refused_and_nothing_is_saved(
    admin_client, session, key, value, message
):
    # A valid change rides along: it must not be saved either.
    response = post_settings(admin_client, session, **{"survey_delay_minutes": "15", key: value})
    assert response.status_code == 422
    shown = page(response)
    assert shown.field_errors(key) == [message]
    assert shown.flashes() == ["Nothing was saved: please look at what is marked below."]
    assert get_setting(session, "survey_delay_minutes") == 0
    assert session.scalar(select(AuditEntry)) is None


def test_the_service_refuses_what_the_page_refuses(session):
    with pytest.raises(SettingError):
        set_setting(session, "throttle_days", -3)
    with pytest.raises(SettingError):
        set_setting(session, "quiet_hours_end", "7:00")
    set_setting(session, "throttle_days", "14")
    assert get_setting(session, "throttle_days") == 14


def test_an_owner_cannot_change_settings(client, session):
    owner = make_user(session, role="owner")
    session.commit()
    log_in(client, owner)
    assert client.get("/admin/settings").status_code == 403
    response = client.post(
        "/admin/settings", data={"csrf_token": csrf_token(client, "/inbox"), "throttle_days": "1"}
    )
    assert response.status_code == 403
    assert get_setting(session, "throttle_days") == 30
