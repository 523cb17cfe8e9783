"""/admin/outbox: what waits and what failed, with why and when next; retry and cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.models import AuditEntry, OutboxMessage, Survey
from surveys.services.customers.unsubscribe import unsubscribe_customer
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_customer
from tests.fake_sendgrid import Reply
from tests.pages import Page, page, text_of
from tests.web import csrf_token


def schedule(session, clock, email: str, *, send_at=None) -> Survey:
    customer = make_customer(session, email=email, name=email.split("@")[0].title())
    survey = schedule_survey(
        session,
        customer=customer,
        kind="manual",
        now=clock.now(),
        question_set=get_question_set(session, "heart-to-heart"),
        send_at=send_at,
    )
    session.commit()
    return survey


def message_of(session, survey) -> OutboxMessage:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.survey_id == survey.id)).one()


def run_worker(runner) -> str:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def outbox(session, runner, clock, fake_sendgrid):
    """One message in each state: failed, retrying, pending, sent."""
    failed = schedule(session, clock, "fay@example.com")
    fake_sendgrid.respond_with(Reply(400, message="Does not contain a valid address."))
    run_worker(runner)
    retrying = schedule(session, clock, "rita@example.com")
    fake_sendgrid.respond_with(503)
    run_worker(runner)
    sent = schedule(session, clock, "sam@example.com")
    run_worker(runner)
    pending = schedule(session, clock, "pat@example.com", send_at=clock.now() + timedelta(days=1))
    return {"failed": failed, "retrying": retrying, "sent": sent, "pending": pending}


def rows_by_message(shown: Page) -> dict[int, dict[str, str]]:
    """The outbox table's rows by message id."""
    return {int(row["id"].removeprefix("message-")): row for row in shown.table_rows()}


def buttons_of(shown: Page, message: OutboxMessage) -> list[str]:
    return shown.buttons(shown.by_id(f"message-{message.id}"))


def test_outbox_shows_counts_and_what_waits_with_its_last_error_and_next_try(
    admin_client, session, outbox
):
    response = admin_client.get("/admin/outbox")

    assert response.status_code == 200
    shown = page(response)
    assert shown.stats(shown.by_label("Messages by status")) == {
        "Failed": "1",
        "Retrying": "1",
        "Pending": "1",
        "Sending": "0",
        "Cancelled": "0",
        "Sent": "1",
    }
    rows = rows_by_message(shown)
    failed = message_of(session, outbox["failed"])
    assert rows[failed.id]["Status"] == "failed 1 attempt"
    assert rows[failed.id]["Last error"] == (
        "SendGrid answered 400 Bad Request: Does not contain a valid address."
    )
    assert buttons_of(shown, failed) == ["Retry"]
    retrying = message_of(session, outbox["retrying"])
    assert rows[retrying.id]["Status"] == "retrying 1 attempt"
    assert rows[retrying.id]["Last error"].startswith("SendGrid answered 503")
    assert retrying.next_attempt_at.strftime("%H:%M UTC") in rows[retrying.id]["Next try"]
    assert buttons_of(shown, retrying) == ["Cancel"]
    pending = message_of(session, outbox["pending"])
    assert rows[pending.id]["Status"] == "pending 0 attempts"
    assert rows[pending.id]["Next try"].endswith("in 1 day")
    assert message_of(session, outbox["sent"]).id not in rows


def test_each_status_has_its_own_list(admin_client, session, outbox):
    rows = rows_by_message(page(admin_client.get("/admin/outbox?status=sent")))

    assert list(rows) == [message_of(session, outbox["sent"]).id]


def test_an_admin_retries_a_failed_message_and_the_worker_sends_it(
    admin_client, session, runner, clock, fake_sendgrid, admin, outbox
):
    message = message_of(session, outbox["failed"])
    clock.advance(minutes=5)

    response = admin_client.post(
        f"/admin/outbox/{message.id}/retry",
        data={"csrf_token": csrf_token(admin_client, "/admin/outbox")},
    )

    assert response.status_code == 302 and response.location == "/admin/outbox"
    session.refresh(message)
    assert (message.status, message.attempts, message.next_attempt_at) == (
        "pending",
        0,
        clock.now(),
    )
    assert session.get(Survey, outbox["failed"].id).status == "scheduled"
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_user_id) == ("outbox.retried", admin.id)
    assert entry.target == f"outbox message {message.id} (survey to fay@example.com)"
    assert (entry.before["status"], entry.after["status"]) == ("failed", "pending")
    assert entry.before["last_error"].startswith("SendGrid answered 400")
    assert page(admin_client.get("/admin/outbox")).flashes() == [
        f"Message {message.id} is back in the queue; the worker sends it on its next pass."
    ]

    run_worker(runner)

    session.refresh(message)
    assert message.status == "sent"
    assert session.get(Survey, outbox["failed"].id).status == "sent"
    assert "fay@example.com" in [mail.to_email for mail in fake_sendgrid.accepted]


def test_an_admin_cancels_a_pending_message_and_it_never_goes(
    admin_client, session, runner, clock, fake_sendgrid, admin, outbox
):
    message = message_of(session, outbox["pending"])

    response = admin_client.post(
        f"/admin/outbox/{message.id}/cancel",
        data={"csrf_token": csrf_token(admin_client, "/admin/outbox")},
    )

    assert response.status_code == 302
    session.refresh(message)
    assert message.status == "cancelled" and message.last_error == "cancelled by Ada Admin"
    survey = session.get(Survey, outbox["pending"].id)
    assert (survey.status, survey.status_reason) == ("cancelled", "cancelled by Ada Admin")
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.before["status"], entry.after["status"]) == (
        "outbox.cancelled",
        "pending",
        "cancelled",
    )
    clock.advance(days=2)
    run_worker(runner)
    assert "pat@example.com" not in [mail.to_email for mail in fake_sendgrid.mails]


def test_a_message_waiting_to_retry_can_be_cancelled(admin_client, session, outbox):
    message = message_of(session, outbox["retrying"])

    admin_client.post(
        f"/admin/outbox/{message.id}/cancel",
        data={"csrf_token": csrf_token(admin_client, "/admin/outbox")},
    )

    session.refresh(message)
    assert message.status == "cancelled"


@pytest.mark.parametrize(
    ("action", "state", "words"),
    [
        ("retry", "sent", "Only a failed message can be retried; this one is already sent."),
        ("retry", "pending", "Only a failed message can be retried; this one is pending."),
        (
            "cancel",
            "failed",
            "Only a message waiting to be sent can be cancelled; this one is failed.",
        ),
        ("cancel", "sent", "this one is already sent."),
    ],
)
def test_an_action_that_does_not_fit_the_message_changes_nothing_and_says_why(
    admin_client, session, outbox, action, state, words
):
    message = message_of(session, outbox[state])
    before = (message.status, message.attempts, message.next_attempt_at)

    response = admin_client.post(
        f"/admin/outbox/{message.id}/{action}",
        follow_redirects=True,
        data={"csrf_token": csrf_token(admin_client, "/admin/outbox")},
    )

    (flash,) = page(response).flashes()
    assert words in flash
    session.refresh(message)
    assert (message.status, message.attempts, message.next_attempt_at) == before
    assert session.scalars(select(AuditEntry)).all() == []


def test_retry_and_cancel_without_a_csrf_token_are_refused(admin_client, session, outbox):
    failed, pending = message_of(session, outbox["failed"]), message_of(session, outbox["pending"])

    assert admin_client.post(f"/admin/outbox/{failed.id}/retry").status_code == 400
    assert (
        admin_client.post(
            f"/admin/outbox/{pending.id}/cancel", data={"csrf_token": "forged"}
        ).status_code
        == 400
    )

    session.refresh(failed)
    session.refresh(pending)
    assert (failed.status, pending.status) == ("failed", "pending")


def test_an_unknown_message_is_404(admin_client):
    token = csrf_token(admin_client, "/admin/outbox")
    assert (
        admin_client.post("/admin/outbox/999999/retry", data={"csrf_token": token}).status_code
        == 404
    )


def test_a_survey_to_a_suppressed_address_is_not_retried(admin_client, session, clock, outbox):
    message = message_of(session, outbox["failed"])
    unsubscribe_customer(
        session, outbox["failed"].customer, now=clock.now(), reason="bounced (550 No such user)"
    )
    session.commit()

    response = admin_client.post(
        f"/admin/outbox/{message.id}/retry",
        follow_redirects=True,
        data={"csrf_token": csrf_token(admin_client, "/admin/outbox")},
    )

    (flash,) = page(response).flashes()
    assert "fay@example.com is suppressed (bounced (550 No such user))" in flash
    session.refresh(message)
    assert message.status == "failed"


def test_a_suppressed_customers_reason_shows_in_the_outbox_and_on_their_profile(
    admin_client, session, clock, outbox
):
    customer = outbox["pending"].customer
    unsubscribe_customer(session, customer, now=clock.now(), reason="reported our email as spam")
    session.commit()

    shown = page(admin_client.get("/admin/outbox?status=cancelled"))

    row = rows_by_message(shown)[message_of(session, outbox["pending"]).id]
    assert "suppressed: reported our email as spam" in row["To"]
    suppressed = text_of(shown.by_id(f"suppressed-{customer.id}"))
    assert "pat@example.com" in suppressed and "reported our email as spam" in suppressed
    profile = admin_client.get(f"/customers/{customer.id}")
    assert profile.status_code == 200
    assert "reported our email as spam" in profile.get_data(as_text=True)
