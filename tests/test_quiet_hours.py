"""Quiet hours: surveys and reminders due at night where the customer lives wait for the morning.

The test clock starts on Monday 2026-11-23 at 09:00 UTC: 10:00 in Madrid
(UTC+1 in November) and 01:00 in Los Angeles (UTC-8).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from surveys.models import OutboxMessage, Survey
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import set_setting
from surveys.services.surveys.quiet_hours import quiet_until
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_api_key, make_customer

MADRID, LOS_ANGELES = "Europe/Madrid", "America/Los_Angeles"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def api(session):
    _key, raw = make_api_key(session)
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


def buy(client, api, email: str, timezone: str | None) -> dict:
    customer = {"email": email, "name": email.split("@")[0].title()}
    if timezone:
        customer["timezone"] = timezone
    response = client.post(
        "/api/v1/purchases", headers=api, json={"order_id": f"Q-{email}", "customer": customer}
    )
    assert response.status_code == 201, response.json
    return response.json["survey"]


def run_worker(runner) -> str:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def sent_to(fake_sendgrid, category: str = "survey") -> list[str]:
    return sorted(mail.to_email for mail in fake_sendgrid.accepted if mail.categories == [category])


def test_a_survey_due_at_night_waits_for_the_morning_in_the_customers_time_zone(
    client, session, runner, clock, fake_sendgrid, api
):
    madrid = buy(client, api, "ana@example.com", MADRID)  # 10:00 there: goes now
    los_angeles = buy(client, api, "ben@example.com", LOS_ANGELES)  # 01:00 there: waits

    assert madrid["status"] == los_angeles["status"] == "scheduled"
    assert madrid["send_at"] == "2026-11-23T09:00:00Z"
    assert los_angeles["send_at"] == "2026-11-23T16:00:00Z"  # 08:00 in Los Angeles
    run_worker(runner)
    assert sent_to(fake_sendgrid) == ["ana@example.com"]

    clock.set(utc(23, 15, 59))
    run_worker(runner)
    assert sent_to(fake_sendgrid) == ["ana@example.com"]

    clock.set(utc(23, 16))
    run_worker(runner)
    assert sent_to(fake_sendgrid) == ["ana@example.com", "ben@example.com"]


def test_an_evening_purchase_is_asked_about_the_next_morning(
    client, session, runner, clock, fake_sendgrid, api
):
    clock.set(utc(23, 20, 30))  # 21:30 in Madrid, 12:30 in Los Angeles

    madrid = buy(client, api, "ana@example.com", MADRID)
    los_angeles = buy(client, api, "ben@example.com", LOS_ANGELES)

    assert madrid["send_at"] == "2026-11-24T07:00:00Z"  # 08:00 in Madrid
    assert los_angeles["send_at"] == "2026-11-23T20:30:00Z"
    run_worker(runner)
    assert sent_to(fake_sendgrid) == ["ben@example.com"]
    clock.set(utc(24, 7))
    run_worker(runner)
    assert sent_to(fake_sendgrid) == ["ana@example.com", "ben@example.com"]


def test_without_a_time_zone_nothing_waits(client, session, runner, clock, fake_sendgrid, api):
    clock.set(utc(23, 23))

    survey = buy(client, api, "cy@example.com", None)

    assert survey["send_at"] == "2026-11-23T23:00:00Z"
    run_worker(runner)
    assert sent_to(fake_sendgrid) == ["cy@example.com"]


def test_quiet_hours_follow_their_settings(client, session, clock, api):
    set_setting(session, "quiet_hours_start", "22:00")
    set_setting(session, "quiet_hours_end", "07:30")
    session.commit()
    clock.set(utc(23, 20, 30))  # 21:30 in Madrid: no longer quiet

    assert buy(client, api, "ana@example.com", MADRID)["send_at"] == "2026-11-23T20:30:00Z"
    clock.set(utc(23, 14))  # 06:00 in Los Angeles: quiet until 07:30
    assert buy(client, api, "ben@example.com", LOS_ANGELES)["send_at"] == "2026-11-23T15:30:00Z"


def test_reminders_due_at_night_wait_for_the_morning_in_two_time_zones(
    client, session, runner, clock, fake_sendgrid, api
):
    set_setting(session, "reminder_delay_hours", 14)
    session.commit()
    buy(client, api, "ana@example.com", MADRID)  # sent Monday 09:00 UTC
    buy(client, api, "ben@example.com", LOS_ANGELES)  # held, sent Monday 16:00 UTC
    run_worker(runner)
    clock.set(utc(23, 16))
    run_worker(runner)

    # Ana's reminder falls due at 23:00 UTC, midnight in Madrid: queued, held until 08:00.
    clock.set(utc(23, 23))
    assert "reminders queued 1" in run_worker(runner)
    [held] = session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "reminder")
    ).all()
    assert held.to_email == "ana@example.com" and held.next_attempt_at == utc(24, 7)
    assert sent_to(fake_sendgrid, "reminder") == []

    # Ben's falls due at 06:00 UTC, 22:00 in Los Angeles: held until 08:00 there.
    clock.set(utc(24, 6))
    run_worker(runner)
    clock.set(utc(24, 7))
    run_worker(runner)
    assert sent_to(fake_sendgrid, "reminder") == ["ana@example.com"]
    clock.set(utc(24, 15, 59))
    run_worker(runner)
    assert sent_to(fake_sendgrid, "reminder") == ["ana@example.com"]
    clock.set(utc(24, 16))
    run_worker(runner)
    assert sent_to(fake_sendgrid, "reminder") == ["ana@example.com", "ben@example.com"]


def test_a_message_that_comes_due_at_night_is_held_when_the_worker_picks_it_up(
    session, runner, clock, fake_sendgrid
):
    # Queued before we knew where the customer lives (or a retry that fell at night).
    customer = make_customer(session, email="ben@example.com")
    survey = schedule_survey(
        session,
        customer=customer,
        kind="manual",
        now=clock.now(),
        question_set=get_question_set(session, "heart-to-heart"),
    )
    customer.timezone = LOS_ANGELES
    session.commit()

    assert "deferred 1" in run_worker(runner)

    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.survey_id == survey.id)
    ).one()
    assert (message.status, message.attempts, message.next_attempt_at) == (
        "pending",
        0,
        utc(23, 16),
    )
    assert fake_sendgrid.requests == []
    clock.set(utc(23, 16))
    run_worker(runner)
    assert sent_to(fake_sendgrid) == ["ben@example.com"]
    assert session.get(Survey, survey.id).sent_at == utc(23, 16)


# --- the rule itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "timezone", "expected"),
    [
        (utc(23, 20, 0), MADRID, utc(24, 7)),  # 21:00 sharp is quiet
        (utc(23, 6, 59), MADRID, utc(23, 7)),  # 07:59 still quiet
        (utc(23, 7, 0), MADRID, None),  # 08:00 sharp is morning
        (utc(23, 19, 59), MADRID, None),  # 20:59 still evening
        (utc(23, 9, 0), LOS_ANGELES, utc(23, 16)),  # 01:00
        (utc(24, 5, 0), LOS_ANGELES, utc(24, 16)),  # 21:00 the day before there
        (utc(23, 9, 0), "Not/A_Zone", None),
        (utc(23, 9, 0), None, None),
    ],
)
def test_quiet_until(moment, timezone, expected):
    assert quiet_until(moment, timezone, start="21:00", end="08:00") == expected


def test_quiet_hours_within_one_night_and_across_a_clock_change():
    # 00:00–07:00 does not cross midnight.
    assert quiet_until(utc(23, 23, 30), MADRID, start="00:00", end="07:00") == utc(24, 6)
    assert quiet_until(utc(23, 22, 30), MADRID, start="00:00", end="07:00") is None
    # The night of 28–29 March 2026 Madrid moves from UTC+1 to UTC+2: 08:00 is 06:00 UTC.
    night = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)
    assert quiet_until(night, MADRID, start="21:00", end="08:00") == datetime(
        2026, 3, 29, 6, tzinfo=UTC
    )
