"""Outbox retention: the worker deletes sent and cancelled rows once they are older than
`outbox_retention_days` (90 by default), keeps every failed, pending and sending one, keeps
SendGrid's events, and leaves the dashboard's mail figures as they were."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from surveys.db import db
from surveys.models import EmailEvent, OutboxMessage, Survey
from surveys.models.outbox import OutboxStatus
from surveys.outbox.retention import BATCH, delete_old_delivered_messages
from surveys.services.email_events import EmailEventInput, record_email_events
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.mail import mail_figures
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import SettingError, clean_setting_value, set_setting
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_customer, make_purchase

DAY = timedelta(days=1)


def message(session, *, status: str, channel: str = "email", **moments) -> OutboxMessage:
    row = OutboxMessage(
        channel=channel,
        template="survey" if channel == "email" else "response.created",
        to_email="ana@example.com" if channel == "email" else None,
        status=status,
        context={},
        **moments,
    )
    session.add(row)
    session.flush()
    return row


def remaining(session) -> set[int]:
    session.expire_all()
    return set(session.scalars(select(OutboxMessage.id)))


def sendgrid_event(kind: str, message_id: int, moment, survey_id=None, n: int = 0):
    return EmailEventInput(
        sg_event_id=f"{kind}-{message_id}-{n}",
        event=kind,
        email="ana@example.com",
        occurred_at=moment,
        survey_id=survey_id,
        message_id=message_id,
        payload={"event": kind},
    )


def test_only_sent_and_cancelled_rows_past_the_retention_go(session, clock):
    now = clock.now()
    old, recent = now - 91 * DAY, now - 89 * DAY
    gone = {
        message(session, status=OutboxStatus.SENT, sent_at=old, next_attempt_at=old).id,
        message(session, status=OutboxStatus.SENT, channel="webhook", sent_at=old).id,
        message(session, status=OutboxStatus.CANCELLED, next_attempt_at=old).id,
    }
    kept = {
        message(session, status=OutboxStatus.SENT, sent_at=recent, next_attempt_at=old).id,
        message(session, status=OutboxStatus.CANCELLED, next_attempt_at=recent).id,
        # Never deleted, however old: an admin retries them, or the worker delivers them.
        message(session, status=OutboxStatus.FAILED, next_attempt_at=old, created_at=old).id,
        message(session, status=OutboxStatus.PENDING, next_attempt_at=old, created_at=old).id,
        message(session, status=OutboxStatus.SENDING, next_attempt_at=old, claimed_until=old).id,
        message(session, status=OutboxStatus.FAILED, channel="webhook", next_attempt_at=old).id,
    }
    session.commit()

    assert delete_old_delivered_messages(session, now) == 3
    session.commit()

    assert remaining(session) == kept
    assert not gone & remaining(session)
    # Run again, and again later the same day: nothing more goes.
    assert delete_old_delivered_messages(session, now) == 0
    assert delete_old_delivered_messages(session, now + timedelta(hours=12)) == 0
    assert remaining(session) == kept


def test_a_row_goes_the_day_it_passes_the_retention(session, clock):
    sent = message(session, status=OutboxStatus.SENT, sent_at=clock.now())
    session.commit()

    day_90 = clock.now() + 90 * DAY
    assert delete_old_delivered_messages(session, day_90) == 0
    assert delete_old_delivered_messages(session, day_90 + timedelta(seconds=1)) == 1
    assert sent.id not in remaining(session)


def test_the_retention_is_an_admin_setting_within_a_sensible_range(session, clock):
    month_old = message(session, status=OutboxStatus.SENT, sent_at=clock.now() - 31 * DAY)
    set_setting(session, "outbox_retention_days", 30)
    session.commit()

    assert delete_old_delivered_messages(session, clock.now()) == 1
    assert month_old.id not in remaining(session)
    for refused in (6, 3651, "", "ninety"):
        with pytest.raises(SettingError):
            clean_setting_value("outbox_retention_days", refused)


def test_the_settings_page_offers_the_retention(admin_client):
    page = admin_client.get("/admin/settings").get_data(as_text=True)

    assert "Keep delivered outbox rows (days)" in page
    assert 'name="outbox_retention_days"' in page


def test_sendgrid_events_outlive_the_row_they_were_about(session, clock):
    now = clock.now()
    old = message(session, status=OutboxStatus.SENT, sent_at=now - 100 * DAY)
    recent = message(session, status=OutboxStatus.SENT, sent_at=now - DAY)
    session.commit()
    record_email_events(
        session,
        [
            sendgrid_event("delivered", old.id, now - 100 * DAY),
            sendgrid_event("open", old.id, now - 99 * DAY),
            sendgrid_event("delivered", recent.id, now - DAY),
        ],
        now=now,
    )
    session.commit()

    assert delete_old_delivered_messages(session, now) == 1
    session.commit()

    events = {e.sg_event_id: e.outbox_message_id for e in session.scalars(select(EmailEvent))}
    assert events == {
        f"delivered-{old.id}-0": None,
        f"open-{old.id}-0": None,
        f"delivered-{recent.id}-0": recent.id,
    }
    # An event that arrives later still for the deleted row is recorded, unlinked.
    later = record_email_events(session, [sendgrid_event("click", old.id, now, n=1)], now=now)
    session.commit()
    assert later.recorded == 1
    assert (
        session.scalar(
            select(EmailEvent.outbox_message_id).where(
                EmailEvent.sg_event_id == f"click-{old.id}-1"
            )
        )
        is None
    )


def test_a_backlog_goes_a_batch_per_pass(session, clock):
    old = clock.now() - 400 * DAY
    session.execute(
        insert(OutboxMessage),
        [
            {
                "channel": "email",
                "template": "survey",
                "status": OutboxStatus.SENT if n % 2 else OutboxStatus.CANCELLED,
                "context": {},
                "attempts": 1,
                "sent_at": old + n * timedelta(minutes=1) if n % 2 else None,
                "next_attempt_at": old + n * timedelta(minutes=1),
                "created_at": old,
            }
            for n in range(BATCH + 250)
        ],
    )
    session.commit()

    passes = []
    while count := delete_old_delivered_messages(session, clock.now()):
        session.commit()
        passes.append(count)

    assert passes == [BATCH, 250]
    assert remaining(session) == set()


def deliver_surveys(session, runner, clock, emails: list[str]) -> list[Survey]:
    """Purchase surveys scheduled now and delivered by the worker (fake SendGrid)."""
    surveys = []
    for email in emails:
        customer = make_customer(session, email=email)
        surveys.append(
            schedule_survey(
                session,
                customer=customer,
                kind="purchase",
                now=clock.now(),
                question_set=get_question_set(session, "heart-to-heart"),
                purchase=make_purchase(session, customer, purchased_at=clock.now()),
            )
        )
    session.commit()
    run_worker(runner)
    return surveys


def run_worker(runner) -> str:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_dashboards_mail_figures_read_the_same_after_retention(
    session, runner, clock, fake_sendgrid
):
    start = clock.now() - DAY
    ana, ben, cy = deliver_surveys(
        session, runner, clock, ["ana@example.com", "ben@example.com", "cy@example.com"]
    )
    sent = {
        row.survey_id: row
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.template == "survey"))
    }
    assert {row.status for row in sent.values()} == {OutboxStatus.SENT}
    clock.advance(hours=1)
    events = [
        sendgrid_event("open", sent[ana.id].id, clock.now(), ana.id),
        sendgrid_event("click", sent[ana.id].id, clock.now(), ana.id),
        sendgrid_event("bounce", sent[ben.id].id, clock.now(), ben.id),
        sendgrid_event("unsubscribe", sent[cy.id].id, clock.now(), cy.id),
    ]
    record_email_events(session, events, now=clock.now())
    session.commit()
    the_week = InsightFilters(start=start, end=start + 7 * DAY)
    before = mail_figures(session, the_week)
    assert (before.sent, before.opened, before.clicked, before.bounces, before.unsubscribes) == (
        3,
        1,
        1,
        1,
        1,
    )

    clock.advance(days=91)
    output = run_worker(runner)

    assert "old outbox rows deleted 3" in output
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert session.scalar(select(func.count(EmailEvent.id))) == 4
    assert mail_figures(session, the_week) == before
    assert "old outbox rows deleted" not in run_worker(runner)


@pytest.mark.postgresql
def test_workers_side_by_side_share_the_backlog_without_waiting(committed_app, clock):
    """A second worker skips the rows the first holds, instead of waiting for them."""
    committed_app.extensions["clock"] = clock
    old = clock.now() - 400 * DAY
    with committed_app.app_context():
        setup = db.sessionmaker()
        setup.execute(
            insert(OutboxMessage),
            [
                {
                    "channel": "email",
                    "template": "survey",
                    "status": OutboxStatus.SENT,
                    "context": {},
                    "sent_at": old,
                    "next_attempt_at": old,
                }
                for _ in range(BATCH + 10)
            ],
        )
        setup.commit()
        setup.close()
        first, second = db.sessionmaker(), db.sessionmaker()
        try:
            # Waiting for a lock would fail the test rather than hang it.
            second.connection().exec_driver_sql("SET lock_timeout = '2s'")
            assert delete_old_delivered_messages(first, clock.now()) == BATCH
            # The first has not committed: its rows are locked, and the second skips them.
            assert delete_old_delivered_messages(second, clock.now()) == 10
            first.commit()
            second.commit()
            assert delete_old_delivered_messages(first, clock.now()) == 0
            assert first.scalar(select(func.count(OutboxMessage.id))) == 0
        finally:
            first.close()
            second.close()


@pytest.mark.postgresql
def test_a_row_an_event_is_being_recorded_against_is_left_for_a_later_pass(committed_app, clock):
    """SendGrid's event and retention racing for one old row: both finish, the event linked."""
    committed_app.extensions["clock"] = clock
    now = clock.now()
    with committed_app.app_context():
        setup = db.sessionmaker()
        old = message(setup, status=OutboxStatus.SENT, sent_at=now - 100 * DAY)
        setup.commit()
        old_id = old.id
        setup.close()
        webhook, worker = db.sessionmaker(), db.sessionmaker()
        try:
            record_email_events(webhook, [sendgrid_event("open", old_id, now)], now=now)
            worker.connection().exec_driver_sql("SET lock_timeout = '2s'")
            assert delete_old_delivered_messages(worker, now) == 0
            worker.commit()
            webhook.commit()
            assert webhook.scalar(select(EmailEvent.outbox_message_id)) == old_id
            assert delete_old_delivered_messages(worker, now) == 1
            worker.commit()
            assert webhook.scalar(select(EmailEvent.outbox_message_id)) is None
        finally:
            webhook.close()
            worker.close()
