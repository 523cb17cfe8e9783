"""/account/settings: each person turns their weekly digest off or on and chooses their time zone
(the business's by default); bad input is refused with a message and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.services.digests import queue_weekly_digests
from surveys.services.settings import SettingError, get_setting, set_setting
from tests.factories import make_user
from tests.pages import page
from tests.web import csrf_token, log_in


@pytest.fixture
def owner_client(client, session):
    owner = make_user(session, name="Olivia Moreno")
    owner.created_at = datetime(2026, 10, 1, tzinfo=UTC)
    session.commit()
    log_in(client, owner)
    return client, owner


def save(client, **fields):
    data = {"csrf_token": csrf_token(client, "/account/settings"), **fields}
    return client.post("/account/settings", data=data)


def test_the_page_shows_the_digest_on_and_the_business_time_zone_by_default(owner_client, session):
    client, _owner = owner_client
    set_setting(session, "business_time_zone", "Europe/Madrid")
    session.commit()
    shown = page(client.get("/account/settings"))
    assert "My settings" in shown.text and "Olivia Moreno" in shown.text
    assert shown.field_value("weekly_digest") == ["y"]
    assert shown.field_value("time_zone") == ""
    options = shown.options("time_zone")
    assert options[""] == "Business default (Europe/Madrid)"
    assert options["Pacific/Auckland"] == "Pacific/Auckland"
    assert options["America/Los_Angeles"] == "America/Los Angeles"
    assert shown.link("My settings")["href"] == "/account/settings"


def test_turning_the_digest_off_and_choosing_a_zone_is_saved(owner_client, session, clock):
    client, owner = owner_client
    response = save(client, time_zone="America/Los_Angeles")  # the box left unticked
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/settings"
    session.refresh(owner)
    assert owner.weekly_digest is False
    assert owner.time_zone == "America/Los_Angeles"
    shown = page(client.get("/account/settings"))
    assert shown.flashes() == ["Saved. We will not send you the weekly digest."]
    assert shown.field_value("weekly_digest") == []
    assert shown.field_value("time_zone") == "America/Los_Angeles"
    # And the worker sends them none.
    clock.set(datetime(2026, 11, 23, 17, tzinfo=UTC))
    assert queue_weekly_digests(session, clock.now()) == 0


def test_turning_it_back_on_with_the_business_zone_stores_no_zone_of_their_own(
    owner_client, session
):
    client, owner = owner_client
    owner.weekly_digest, owner.time_zone = False, "Asia/Tokyo"
    session.commit()
    assert save(client, weekly_digest="y", time_zone="").status_code == 303
    session.refresh(owner)
    assert (owner.weekly_digest, owner.time_zone) == (True, None)


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "posixrules", "Europe/Madrid\x00", "x" * 5000, "Europe/Madrid\n"]
)
def test_a_time_zone_not_on_the_list_is_refused_and_changes_nothing(owner_client, session, zone):
    client, owner = owner_client
    response = save(client, time_zone=zone)
    assert response.status_code == 422
    shown = page(response)
    assert shown.field_errors("time_zone")
    assert "Nothing was saved" in shown.text
    session.refresh(owner)
    assert (owner.weekly_digest, owner.time_zone) == (True, None)


def test_without_a_csrf_token_nothing_is_saved(owner_client, session):
    client, owner = owner_client
    response = client.post("/account/settings", data={"time_zone": "Asia/Tokyo"})
    assert response.status_code == 400
    session.refresh(owner)
    assert (owner.weekly_digest, owner.time_zone) == (True, None)


def test_the_business_time_zone_is_an_iana_name(session):
    assert get_setting(session, "business_time_zone") == "UTC"
    with pytest.raises(SettingError, match="IANA time zone"):
        set_setting(session, "business_time_zone", "Central European Time")
    set_setting(session, "business_time_zone", "Pacific/Auckland")
    assert get_setting(session, "business_time_zone") == "Pacific/Auckland"
