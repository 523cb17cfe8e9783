"""One reminder, and no more: after the reminder delay, for a survey still unanswered."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from surveys.db import db
from surveys.models import Customer, OutboxMessage, Survey
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import set_setting
from surveys.services.surveys.reminders import queue_reminders
from surveys.services.surveys.scheduling import schedule_survey
from surveys.services.surveys.tokens import find_token
from tests.factories import make_customer, make_purchase, make_sent_survey
from tests.web import csrf_token_from

DELAY = timedelta(hours=72)  # the default reminder delay


def run_worker(runner) -> str:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def reminders(fake_sendgrid) -> list:
    return [mail for mail in fake_sendgrid.accepted if mail.categories == ["reminder"]]


def reminder_messages(session, survey) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.survey_id == survey.id, OutboxMessage.template == "reminder"
            )
        )
    )


@pytest.fixture
def survey_sent(session, runner, clock, fake_sendgrid):
    """Ana's purchase survey, delivered by the worker at the test's start."""
    customer = make_customer(session, email="ana@example.com", name="Ana Diaz")
    purchase = make_purchase(
        session,
        customer,
        purchased_at=clock.now(),
        items=[{"sku": "KB-1", "name": "Walnut keyboard", "quantity": 1}],
    )
    survey = schedule_survey(
        session,
        customer=customer,
        kind="purchase",
        now=clock.now(),
        question_set=get_question_set(session, "heart-to-heart"),
        purchase=purchase,
    )
    session.commit()
    run_worker(runner)
    return session.get(Survey, survey.id)


def test_unanswered_survey_gets_its_reminder_after_the_delay(
    session, runner, clock, fake_sendgrid, survey_sent
):
    clock.advance(seconds=DELAY.total_seconds() - 60)
    run_worker(runner)
    assert reminders(fake_sendgrid) == []

    clock.advance(minutes=1)
    output = run_worker(runner)

    assert "reminders queued 1" in output
    [mail] = reminders(fake_sendgrid)
    assert mail.to_email == "ana@example.com"
    assert mail.subject == "Ana, still a minute for your walnut keyboard?"
    assert mail.custom_args["survey_id"] == str(survey_sent.id)
    survey = session.get(Survey, survey_sent.id)
    assert survey.reminder_sent_at == clock.now()
    assert survey.status == "sent"


def test_the_reminder_is_shorter_and_carries_the_same_personal_links(
    session, runner, clock, fake_sendgrid, survey_sent
):
    clock.advance(seconds=DELAY.total_seconds())
    run_worker(runner)

    [survey_mail] = [m for m in fake_sendgrid.accepted if m.categories == ["survey"]]
    [mail] = reminders(fake_sendgrid)
    assert len(mail.text) < len(survey_mail.text) and len(mail.html) < len(survey_mail.html)
    assert "Are we exceeding your expectations?" in mail.text
    assert "This is the only reminder we will send." in mail.text
    links = [word for word in mail.text.split() if word.startswith("http://surveys.test/s/")]
    assert len(links) == 3  # one per answer of the first question
    token = find_token(session, urlsplit(links[0]).path.rsplit("/", 1)[1])
    assert token.survey_id == survey_sent.id
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = mail.headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe in mail.text and unsubscribe in mail.html


def test_a_reminder_link_opens_the_survey_and_its_answer_counts(
    client, session, runner, clock, fake_sendgrid, survey_sent
):
    clock.advance(seconds=DELAY.total_seconds())
    run_worker(runner)
    [mail] = reminders(fake_sendgrid)
    link = next(word for word in mail.text.split() if word.endswith("?a=exceeding"))

    page = client.get(f"{urlsplit(link).path}?{urlsplit(link).query}")
    answered = client.post(
        urlsplit(link).path,
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "expectations": "exceeding",
            "recommend": "10",
        },
    )

    assert answered.status_code == 200
    assert session.get(Survey, survey_sent.id).status == "answered"


def test_there_is_never_a_second_reminder(session, runner, clock, fake_sendgrid, survey_sent):
    clock.advance(seconds=DELAY.total_seconds())
    run_worker(runner)
    for _ in range(4):
        clock.advance(days=3)
        run_worker(runner)

    assert len(reminders(fake_sendgrid)) == 1
    assert len(reminder_messages(session, survey_sent)) == 1


def test_no_reminder_after_an_answer(client, session, runner, clock, fake_sendgrid, survey_sent):
    [mail] = fake_sendgrid.accepted
    link = next(word for word in mail.text.split() if word.endswith("?a=meeting"))
    page = client.get(f"{urlsplit(link).path}?{urlsplit(link).query}").get_data(as_text=True)
    answered = client.post(
        urlsplit(link).path, data={"csrf_token": csrf_token_from(page), "expectations": "meeting"}
    )
    assert answered.status_code == 200

    clock.advance(days=5)
    run_worker(runner)

    assert reminders(fake_sendgrid) == []
    assert reminder_messages(session, survey_sent) == []


def test_no_reminder_after_an_unsubscribe(
    client, session, runner, clock, fake_sendgrid, survey_sent
):
    [mail] = fake_sendgrid.accepted
    unsubscribed = client.post(
        urlsplit(mail.headers["List-Unsubscribe"].strip("<>")).path,
        data={"List-Unsubscribe": "One-Click"},
    )
    assert unsubscribed.status_code == 200

    clock.advance(days=5)
    run_worker(runner)

    assert reminders(fake_sendgrid) == []
    assert reminder_messages(session, survey_sent) == []


def test_a_queued_reminder_is_cancelled_by_an_unsubscribe(
    client, session, runner, clock, fake_sendgrid
):
    customer = make_customer(session)
    survey, token = make_sent_survey(session, customer, sent_at=clock.now() - DELAY)
    assert queue_reminders(session, clock.now()) == 1
    session.commit()

    client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    run_worker(runner)

    assert reminders(fake_sendgrid) == []
    [message] = reminder_messages(session, survey)
    assert message.status == "cancelled" and "suppressed" in message.last_error


def test_no_reminder_once_the_link_has_expired(session, runner, clock, fake_sendgrid):
    customer = make_customer(session)
    survey, _token = make_sent_survey(session, customer, sent_at=clock.now() - timedelta(days=31))
    session.commit()

    run_worker(runner)

    assert reminder_messages(session, survey) == []


def test_reminders_off_when_the_delay_is_zero(session, runner, clock, fake_sendgrid, survey_sent):
    set_setting(session, "reminder_delay_hours", 0)
    session.commit()
    clock.advance(days=5)

    run_worker(runner)

    assert reminders(fake_sendgrid) == []


def test_reminder_follows_the_delay_setting(session, runner, clock, fake_sendgrid, survey_sent):
    set_setting(session, "reminder_delay_hours", 24)
    session.commit()
    clock.advance(hours=23)
    run_worker(runner)
    assert reminders(fake_sendgrid) == []

    clock.advance(hours=1)
    run_worker(runner)

    assert len(reminders(fake_sendgrid)) == 1


def test_every_kind_of_survey_gets_one_reminder_in_its_own_words(
    session, runner, clock, fake_sendgrid
):
    customer = make_customer(session, name="Ana Diaz")
    for kind in ("relationship_review", "fix_check"):
        make_sent_survey(
            session,
            customer,
            kind=kind,
            sent_at=clock.now() - DELAY,
            question_set_key="fix-check" if kind == "fix_check" else "relationship-review",
        )
    session.commit()

    run_worker(runner)

    subjects = sorted(mail.subject for mail in reminders(fake_sendgrid))
    assert subjects == ["Ana, is it really fixed?", "Ana, we would still love to hear from you"]


@pytest.mark.parametrize("moot", ["answered", "suppressed", "erased", "expired"])
def test_a_reminder_made_moot_after_it_was_queued_is_cancelled_at_delivery(
    session, runner, clock, fake_sendgrid, moot
):
    customer = make_customer(session)
    survey, _token = make_sent_survey(session, customer, sent_at=clock.now() - DELAY)
    assert queue_reminders(session, clock.now()) == 1
    session.commit()
    # Changed behind the outbox's back, as a race between a worker and a customer could.
    if moot == "answered":
        survey.status = "answered"
    elif moot == "suppressed":
        customer.suppressed_at, customer.suppression_reason = clock.now(), "bounced"
    elif moot == "erased":
        customer.erased_at = clock.now()
    else:
        survey.expires_at = clock.now()
    session.commit()

    output = run_worker(runner)

    assert "cancelled 1" in output
    assert reminders(fake_sendgrid) == []
    [message] = reminder_messages(session, survey)
    assert message.status == "cancelled" and message.last_error
    assert session.get(Survey, survey.id).reminder_sent_at == clock.now()  # still: never again


def test_two_workers_queueing_at_once_queue_each_reminder_once(committed_app):
    with committed_app.app_context():
        session = db.session()
        customers = [make_customer(session) for _ in range(30)]
        now = datetime.now(UTC)
        for customer in customers:
            make_sent_survey(session, customer, sent_at=now - DELAY - timedelta(minutes=1))
        session.commit()

    counts: list[int] = []
    barrier = threading.Barrier(2)

    def queue():
        with committed_app.app_context():
            session = db.session()
            barrier.wait()
            counts.append(queue_reminders(session, now))
            session.commit()

    threads = [threading.Thread(target=queue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with committed_app.app_context():
        session = db.session()
        queued = session.scalars(
            select(OutboxMessage.survey_id).where(OutboxMessage.template == "reminder")
        ).all()
        assert sum(counts) == 30
        assert len(queued) == len(set(queued)) == 30
        assert session.scalar(select(func.count(Customer.id))) == 30
