"""Sending many emails at once: SendGrid requests of up to 1,000 personalizations.

Each recipient of a request has their own link (a substitution), their own
List-Unsubscribe header and their own custom_args; a request that fails is
retried later for its own recipients only, so nobody accepted is sent twice.
"""

from __future__ import annotations

from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, select

from surveys.models import Customer, OutboxMessage, Survey
from surveys.services.insights.rollups import refresh_rollups
from surveys.services.surveys.tokens import find_token
from tests.conftest import TEST_START
from tests.factories import make_due_surveys


def insert_due_surveys(session, count: int, **options) -> list[int]:
    """Due surveys as the clock fixture sees them (due at TEST_START), committed."""
    survey_ids = make_due_surveys(session, count, now=TEST_START, **options)
    session.commit()
    return survey_ids


def run_worker(runner) -> str:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def personalizations(request) -> list[dict]:
    return request.body["personalizations"]


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


@pytest.fixture
def statements(app):
    """Counts the SQL statements the app sends to the database while the test runs."""
    counted = Counter()
    engine = app.extensions["db"]["engine"]

    def count(conn, cursor, statement, parameters, context, executemany):
        counted[statement.split(None, 1)[0].upper()] += 1

    event.listen(engine, "before_cursor_execute", count)
    yield counted
    event.remove(engine, "before_cursor_execute", count)


def test_2500_due_surveys_go_in_requests_of_at_most_1000_each_recipient_with_their_own(
    session, runner, clock, fake_sendgrid
):
    survey_ids = insert_due_surveys(session, 2500)
    messages = dict(session.execute(select(OutboxMessage.survey_id, OutboxMessage.id)).all())
    customers = dict(session.execute(select(Survey.id, Survey.customer_id)).all())

    assert "sent 2500, retrying 0, failed 0" in run_worker(runner)

    sizes = [len(personalizations(request)) for request in fake_sendgrid.requests]
    assert sizes == [1000, 1000, 500]
    mails = fake_sendgrid.accepted
    assert sorted(mail.survey_id for mail in mails) == sorted(survey_ids)
    tokens = set()
    for mail in mails:
        # Their own custom_args, so SendGrid's events find their message and survey.
        assert mail.custom_args == {
            "message_id": str(messages[mail.survey_id]),
            "survey_id": str(mail.survey_id),
        }
        # Their own name, and their own link: a token of their survey.
        number = mail.to_email.split("-")[0][1:]
        assert mail.subject.startswith(f"Customer{number}, how is your mug number")
        assert mail.text.startswith(f"Hi Customer{number},")
        unsubscribe = mail.headers["List-Unsubscribe"].strip("<>")
        raw = token_of(unsubscribe)
        assert f"http://surveys.test/s/{raw}?a=short" in mail.text
        assert f'href="http://surveys.test/s/{raw}?a=short"' in mail.html
        assert unsubscribe in mail.text and unsubscribe in mail.html
        assert "[h2h:" not in mail.text + mail.html + mail.subject
        tokens.add(raw)
    assert len(tokens) == 2500
    for mail in mails[::250]:
        token = find_token(session, token_of(mail.headers["List-Unsubscribe"].strip("<>")))
        assert (token.survey_id, token.customer_id) == (mail.survey_id, customers[mail.survey_id])
    # One shared body per request; what differs lives in the personalizations.
    for request in fake_sendgrid.requests:
        assert len(request.body["content"]) == 2
        assert "[h2h:token]" in request.body["content"][0]["value"]
    statuses = set(session.execute(select(OutboxMessage.status, OutboxMessage.attempts)).all())
    assert statuses == {("sent", 1)}
    assert set(session.scalars(select(Survey.status))) == {"sent"}


def test_database_work_per_batch_does_not_grow_with_its_size(
    session, runner, clock, fake_sendgrid, statements
):
    def counted() -> int:
        return sum(n for kind, n in statements.items() if kind not in ("SAVEPOINT", "RELEASE"))

    def statements_to_send(count: int) -> int:
        insert_due_surveys(session, count)
        statements.clear()
        assert f"sent {count}," in run_worker(runner)
        return counted()

    # The worker's hourly count of the dashboard's day tallies is timed work of its own, not
    # the batch's: counted before, so each pass below only finds it done.
    refresh_rollups(session, clock.now())
    # Each pass also runs the timed jobs (a query or two each, whatever the mail): a pass
    # with nothing to send measures them, and the batch's own work is what comes on top.
    statements.clear()
    run_worker(runner)
    timed_work = counted()
    # Claim, renew, a few loads, one token insert, one pin, the status updates:
    # the same statements for a batch of ten as for a batch of a thousand, but
    # for the purchases and their items, loaded 500 at a time.
    small = statements_to_send(10) - timed_work
    large = statements_to_send(1000) - timed_work
    assert small < 20 and large <= small + 2, (timed_work, small, large)


def test_a_request_failing_midway_is_retried_for_its_own_recipients_only(
    session, runner, clock, fake_sendgrid
):
    survey_ids = insert_due_surveys(session, 2500)
    fake_sendgrid.respond_with(202, 500, 202)

    assert "sent 1500, retrying 1000, failed 0" in run_worker(runner)

    [first, failed, third] = fake_sendgrid.requests
    failed_ids = {int(p["custom_args"]["survey_id"]) for p in personalizations(failed)}
    waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent")).all()
    assert {message.survey_id for message in waiting} == failed_ids
    assert {(message.status, message.attempts) for message in waiting} == {("pending", 1)}
    assert "SendGrid answered 500" in waiting[0].last_error
    assert session.scalar(select(Survey.status).where(Survey.id == waiting[0].survey_id)) == (
        "scheduled"
    )

    clock.set(max(message.next_attempt_at for message in waiting))
    assert "sent 1000, retrying 0, failed 0" in run_worker(runner)

    sends = Counter(mail.survey_id for mail in fake_sendgrid.accepted)
    assert set(sends) == set(survey_ids) and set(sends.values()) == {1}
    assert len(fake_sendgrid.requests) == 4
    assert {
        int(p["custom_args"]["survey_id"]) for p in personalizations(fake_sendgrid.requests[3])
    } == failed_ids
    assert set(session.scalars(select(OutboxMessage.status))) == {"sent"}


def test_a_refused_address_fails_alone_and_the_rest_of_its_request_goes(
    session, runner, clock, fake_sendgrid
):
    emails = [f"ok{n}@example.com" for n in range(9)]
    emails.insert(4, "broken-address@")
    survey_ids = insert_due_surveys(session, 10, emails=emails)

    assert "sent 9, retrying 0, failed 1" in run_worker(runner)

    refused, resent = fake_sendgrid.requests
    assert (refused.status, len(personalizations(refused))) == (400, 10)
    assert (resent.status, len(personalizations(resent))) == (202, 9)
    failed = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
    assert failed.to_email == "broken-address@"
    assert failed.last_error == (
        "SendGrid answered 400 Bad Request: Does not contain a valid "
        "address. (personalizations.4.to.0.email)"
    )
    assert session.get(Survey, failed.survey_id).status == "failed"
    assert sorted(mail.survey_id for mail in fake_sendgrid.accepted) == sorted(
        set(survey_ids) - {failed.survey_id}
    )


def test_a_refusal_that_names_nobody_is_narrowed_down_by_halves(
    session, runner, clock, fake_sendgrid
):
    survey_ids = insert_due_surveys(session, 4)
    fake_sendgrid.respond_with(413)  # the request as a whole was too large

    assert "sent 4" in run_worker(runner)

    assert [len(personalizations(r)) for r in fake_sendgrid.requests] == [4, 2, 2]
    assert sorted(mail.survey_id for mail in fake_sendgrid.accepted) == sorted(survey_ids)


def test_emails_that_differ_in_more_than_their_personal_values_go_in_separate_requests(
    session, runner, clock, fake_sendgrid
):
    insert_due_surveys(session, 6, kinds=("purchase", "manual", "relationship_review"))

    run_worker(runner)

    assert sorted(len(personalizations(r)) for r in fake_sendgrid.requests) == [2, 2, 2]
    for request in fake_sendgrid.requests:
        kinds = {
            mail.subject.split(", ", 1)[1].split()[0]
            for mail in fake_sendgrid.accepted
            if mail.request is request
        }
        assert len(kinds) == 1


def test_one_address_is_never_twice_in_a_request(session, runner, clock, fake_sendgrid):
    # Two surveys for the same person, due together: SendGrid refuses an address twice.
    survey_ids = insert_due_surveys(session, 3)
    first = session.get(Survey, survey_ids[0])
    twin = Survey(
        kind="purchase",
        status="scheduled",
        customer_id=first.customer_id,
        purchase_id=first.purchase_id,
        question_set_id=first.question_set_id,
        send_at=first.send_at,
    )
    session.add(twin)
    session.flush()
    session.add(
        OutboxMessage(
            channel="email",
            template="survey",
            to_email=first.customer.email,
            to_name=first.customer.name,
            customer_id=first.customer_id,
            survey_id=twin.id,
            status="pending",
            next_attempt_at=clock.now(),
            context={},
        )
    )
    session.commit()

    assert "sent 4" in run_worker(runner)

    for request in fake_sendgrid.requests:
        addresses = [p["to"][0]["email"] for p in personalizations(request)]
        assert len(addresses) == len(set(addresses))
    assert len(fake_sendgrid.requests) == 2


def test_without_sendgrid_a_batch_is_one_eml_file_per_email_with_its_own_link(
    app, session, runner, clock
):
    survey_ids = insert_due_surveys(session, 5)

    assert "sent 5" in run_worker(runner)

    files = sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == 5
    seen = set()
    for path in files:
        email = message_from_bytes(path.read_bytes(), policy=policy.default)
        text = email.get_body(("plain",)).get_content()
        html = email.get_body(("html",)).get_content()
        raw = token_of(email["List-Unsubscribe"].strip("<>"))
        assert f"http://surveys.test/s/{raw}" in text and f"http://surveys.test/s/{raw}" in html
        assert "[h2h:" not in text + html
        seen.add(int(email["X-Heart-To-Heart-Survey-Id"]))
    assert seen == set(survey_ids)


def test_a_name_with_markup_is_escaped_in_html_and_verbatim_in_text_in_a_batch(
    session, runner, clock, fake_sendgrid
):
    insert_due_surveys(session, 2, emails=["a@example.com", "b@example.com"])
    session.execute(
        Customer.__table__.update().where(Customer.email == "a@example.com").values(name="Zoë&<b>")
    )
    session.commit()

    run_worker(runner)

    zoe = next(mail for mail in fake_sendgrid.accepted if mail.to_email == "a@example.com")
    assert zoe.text.startswith("Hi Zoë&<b>,")
    assert "Hi Zoë&amp;&lt;b&gt;," in zoe.html and "<b>" not in zoe.html
    assert zoe.subject.startswith("Zoë&<b>, how is your")
