"""A SendGrid request that times out and was accepted all the same: how many go twice.

SendGrid's v3 API takes no idempotency key, so a request whose answer never
came is retried. The fake SendGrid here accepts the request after the
client's timeout, as SendGrid can. Measured: each recipient of the timed-out
request is sent a second copy (at most 1,000, the request's size), nobody a
third, nobody else any; with the signed Event Webhook on, the retry waits 5
minutes and skips everyone SendGrid reported on meanwhile.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.mail.senders import UNCERTAIN_RETRY_SECONDS
from surveys.models import OutboxMessage, Survey
from tests.conftest import TEST_START
from tests.factories import make_due_surveys
from tests.fake_sendgrid import Reply
from tests.test_sendgrid_events import SendGridSigner, event, post_events

TIMEOUT = 1.0
LATE = Reply(202, delay=TIMEOUT + 1.5)  # accepted, but after the client gave up


@pytest.fixture
def slow_sendgrid(app, fake_sendgrid):
    app.config["SENDGRID_TIMEOUT_SECONDS"] = TIMEOUT
    return fake_sendgrid


@pytest.fixture
def signer(app) -> SendGridSigner:
    signer = SendGridSigner()
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = signer.public_key
    return signer


def insert_due_surveys(session, count: int) -> list[int]:
    survey_ids = make_due_surveys(session, count, now=TEST_START)
    session.commit()
    return survey_ids


def run_worker(runner) -> str:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def wait_until_answered(fake, timeout: float = 30.0) -> None:
    """The late answers are given (and counted as accepted) once their delay has run."""
    deadline = time.monotonic() + timeout
    while any(request.status == 0 for request in fake.recorded()):
        assert time.monotonic() < deadline, "the fake never answered"
        time.sleep(0.05)


def waiting_messages(session) -> list[OutboxMessage]:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent")).all()


def survey_ids_of(request) -> set[int]:
    return {int(p["custom_args"]["survey_id"]) for p in request.body["personalizations"]}


def test_a_timed_out_request_sendgrid_accepted_is_sent_twice_to_its_own_recipients_only(
    session, runner, clock, slow_sendgrid
):
    survey_ids = insert_due_surveys(session, 1500)  # one request of 1,000, one of 500
    slow_sendgrid.respond_with(LATE, 202)

    assert "sent 500, retrying 1000, failed 0" in run_worker(runner)
    wait_until_answered(slow_sendgrid)
    [timed_out, _answered] = slow_sendgrid.recorded()
    waiting = waiting_messages(session)
    assert {message.survey_id for message in waiting} == survey_ids_of(timed_out)
    assert "may have accepted the request" in waiting[0].last_error
    # Not before SendGrid had time to report on what it accepted.
    assert min(message.next_attempt_at for message in waiting) >= clock.now() + timedelta(
        seconds=UNCERTAIN_RETRY_SECONDS
    )
    clock.set(max(message.next_attempt_at for message in waiting))
    assert "sent 1000, retrying 0, failed 0" in run_worker(runner)

    sends = Counter(mail.survey_id for mail in slow_sendgrid.accepted)
    twice = {survey_id for survey_id, times in sends.items() if times == 2}
    assert set(sends) == set(survey_ids)
    assert twice == survey_ids_of(timed_out) and len(twice) == 1000  # the bound: one request
    assert max(sends.values()) == 2
    assert set(session.scalars(select(OutboxMessage.status))) == {"sent"}


def test_after_a_timeout_those_sendgrid_reported_on_are_marked_sent_and_not_sent_again(
    client, session, runner, clock, slow_sendgrid, signer
):
    survey_ids = insert_due_surveys(session, 300)
    slow_sendgrid.respond_with(LATE)
    assert "sent 0, retrying 300, failed 0" in run_worker(runner)
    wait_until_answered(slow_sendgrid)

    # SendGrid's Event Webhook reports on 200 of them within the 5 minutes.
    clock.advance(minutes=2)
    reported = slow_sendgrid.accepted[:200]
    events = [
        event("processed", mail.to_email, clock, sg_event_id=f"p-{n}", **mail.custom_args)
        for n, mail in enumerate(reported)
    ]
    assert post_events(client, signer, clock, events).status_code == 200
    reported_ids = {mail.survey_id for mail in reported}
    confirmed = session.scalars(
        select(OutboxMessage).where(OutboxMessage.survey_id.in_(reported_ids))
    ).all()
    assert {(m.status, m.attempts, m.sent_at) for m in confirmed} == {("sent", 1, clock.now())}
    assert set(session.scalars(select(Survey.status).where(Survey.id.in_(reported_ids)))) == {
        "sent"
    }

    clock.set(max(message.next_attempt_at for message in waiting_messages(session)))
    assert "sent 100, retrying 0, failed 0" in run_worker(runner)

    sends = Counter(mail.survey_id for mail in slow_sendgrid.accepted)
    assert set(sends) == set(survey_ids)
    assert {survey_id for survey_id, times in sends.items() if times > 1} == (
        set(survey_ids) - reported_ids
    )
    assert max(sends.values()) == 2


def test_a_refused_connection_is_retried_at_the_usual_pace_since_nothing_reached_sendgrid(
    app, session, runner, clock
):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app.config.update(SENDGRID_API_KEY="SG.key", SENDGRID_API_HOST=f"http://127.0.0.1:{port}")
    insert_due_surveys(session, 3)

    assert "retrying 3" in run_worker(runner)

    waiting = waiting_messages(session)
    assert all("could not reach SendGrid" in message.last_error for message in waiting)
    assert max(message.next_attempt_at for message in waiting) <= clock.now() + timedelta(
        seconds=60
    )


def test_events_about_a_message_already_sent_change_nothing(
    client, session, runner, clock, fake_sendgrid, signer
):
    insert_due_surveys(session, 1)
    run_worker(runner)
    [mail] = fake_sendgrid.accepted
    [message] = session.scalars(select(OutboxMessage)).all()
    sent_at = message.sent_at

    clock.advance(minutes=1)
    post_events(
        client, signer, clock, [event("delivered", mail.to_email, clock, **mail.custom_args)]
    )

    session.refresh(message)
    assert (message.status, message.attempts, message.sent_at) == ("sent", 1, sent_at)
