"""`flask customers erase EMAIL`: personal data goes, the numbers stay."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveys.db import Base
from surveys.models import (
    Answer,
    AuditEntry,
    Case,
    CaseEvent,
    Customer,
    CustomerNote,
    CustomerPreference,
    EmailEvent,
    OutboxMessage,
    Response,
    Survey,
    SurveyToken,
    Touchpoint,
    WebhookEndpoint,
)
from surveys.services.customers.erasure import ERASED_TEXT, erase_customer
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_api_key, make_case, make_customer, make_user
from tests.journey import (
    UNHAPPY,
    act_on_case,
    answer_survey,
    bearer,
    latest_fix_check_path,
    run_worker,
    unhappy_customer,
)
from tests.web import csrf_token, log_in

ANA = "ana@example.com"
UNDERSTOOD = "Your keyboard came with a broken key, and your email to us went unanswered."
REPLY = "I am so sorry. A new keyboard leaves today; call me on 555-0101."
CASE_NOTE = "Ana's husband called too; she lives at 12 Rue de la Paix."
RESOLUTION = "Sent Ana a new keyboard by express."
STILL_BROKEN = "The new one has the same sticky key. My flat is on the 3rd floor."
PROFILE_NOTE = "Ana's daughter graduates in June."
TOUCH_NOTE = "Called Ana about her invoice 2026-114."
# Everything personal the journey below leaves behind; none of it may survive the erasure.
PERSONAL = [
    ANA,
    "Ana Diaz",
    "cus_ana",
    UNHAPPY["one_thing"],
    UNHAPPY["preferences"],
    UNDERSTOOD,
    REPLY,
    CASE_NOTE,
    RESOLUTION,
    STILL_BROKEN,
    PROFILE_NOTE,
    TOUCH_NOTE,
    "203.0.113.9",
]


@pytest.fixture
def people(session):
    owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    _key, raw = make_api_key(session, "Shop")
    session.commit()
    return {"owner": owner, "raw_key": raw}


@pytest.fixture
def lived_case(client, session, runner, clock, fake_sendgrid, people):
    """Ana's whole story: an unhappy answer, a reply, notes, a fix that did not work."""
    # An integration hears of every response and case (its deliveries fail: nobody listens).
    session.add(
        WebhookEndpoint(
            url="http://127.0.0.1:9/hooks",
            secret="s" * 32,
            events=["response.created", "case.opened", "case.resolved", "case.closed"],
        )
    )
    session.commit()
    case = unhappy_customer(
        client,
        session,
        runner,
        fake_sendgrid,
        raw_key=people["raw_key"],
        owner_email="olivia@shop.example",
    )
    customer = session.get(Customer, case.customer_id)
    customer.external_id, customer.timezone = "cus_ana", "Europe/Madrid"
    session.commit()
    log_in(client, people["owner"])
    assert (
        act_on_case(client, case.id, "replies", understood=UNDERSTOOD, will_do=REPLY).status_code
        == 302
    )
    assert act_on_case(client, case.id, "notes", body=CASE_NOTE).status_code == 302
    assert (
        act_on_case(client, case.id, "resolve", ask_in_days="0", resolution=RESOLUTION).status_code
        == 302
    )
    run_worker(runner)
    clock.advance(hours=2)
    answer_survey(
        client,
        latest_fix_check_path(fake_sendgrid, ANA),
        {"fix_worked": "no", "anything_else": STILL_BROKEN},
    )
    profile = f"/customers/{customer.id}"
    client.post(
        f"{profile}/notes", data={"body": PROFILE_NOTE, "csrf_token": csrf_token(client, profile)}
    )
    touch = client.post(
        "/api/v1/touchpoints",
        headers=bearer(people["raw_key"]),
        json={"customer_email": ANA, "kind": "invoice", "polarity": "negative", "note": TOUCH_NOTE},
    )
    assert touch.status_code == 201, touch.get_json()
    client.get("/inbox")  # shows (and so clears) the flashed messages of the steps above
    # What SendGrid reported about her mail, and a webhook body about her case.
    session.add(
        EmailEvent(
            sg_event_id="evt-1",
            event="open",
            email=ANA,
            occurred_at=clock.now(),
            payload={"email": ANA, "ip": "203.0.113.9", "event": "open"},
        )
    )
    session.add(
        OutboxMessage(
            channel="webhook",
            template="case.opened",
            case_id=case.id,
            customer_id=customer.id,
            status="sent",
            context={},
            payload={
                "event": "case.opened",
                "data": {
                    "customer": {"email": ANA, "name": "Ana Diaz"},
                    "comments": [{"body": CASE_NOTE}],
                    "answers": {"one_thing": UNHAPPY["one_thing"]},
                },
            },
        )
    )
    # And a survey waiting to go (a fix-check: those are never throttled).
    waiting = schedule_survey(
        session,
        customer=customer,
        kind="fix_check",
        now=clock.now(),
        question_set=get_question_set(session, "fix-check"),
        case=case,
    )
    assert waiting.status == "scheduled"
    session.commit()
    return session.get(Case, case.id)


def erase(runner, email: str, *options, **kwargs):
    return runner.invoke(args=["customers", "erase", email, *options], **kwargs)


def everything_stored(session) -> dict[str, str]:
    """Every table's rows as text, to look for what must be gone."""
    return {
        table.name: repr(session.execute(select(table)).all())
        for table in Base.metadata.sorted_tables
    }


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_no_trace_of_the_customer_is_left_anywhere(runner, session, clock, lived_case):
    stored = "".join(everything_stored(session).values())
    assert all(words in stored for words in PERSONAL)  # the journey left each of them

    result = erase(runner, ANA, "--yes")

    assert result.exit_code == 0, result.output
    for table, rows in everything_stored(session).items():
        for words in PERSONAL:
            assert words not in rows, f"{words!r} is still in {table}"


def test_the_customer_keeps_a_row_that_says_nothing_about_them(runner, session, clock, lived_case):
    customer_id = lived_case.customer_id

    result = erase(runner, ANA, "--yes")

    customer = session.get(Customer, customer_id)
    assert customer.email.startswith("erased-") and customer.email.endswith("@erased.invalid")
    assert len(customer.email) > 40  # random, so nobody can turn it back into the address
    assert (customer.name, customer.external_id, customer.timezone) == (None, None, None)
    assert customer.erased_at == clock.now()
    assert customer.suppressed_at is not None
    assert customer.display_name == "erased customer"
    assert count(session, CustomerPreference) == count(session, CustomerNote) == 0
    assert count(session, SurveyToken) == 0
    assert f"Erased the personal data of customer {customer_id}" in result.output
    assert "3 written answers blanked, 1 preference and 1 note deleted" in result.output
    assert 'Their 1 case stays with its owner, shown as "erased customer"' in result.output
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.erased"))
    assert entry.target == f"customer {customer_id}"


def test_choices_and_scores_stay_for_the_statistics(runner, session, clock, lived_case):
    def answers():
        return {
            (a.response_id, a.question.key): (a.value, a.negative)
            for a in session.scalars(select(Answer))
        }

    before = answers()
    negative = [r.negative for r in session.scalars(select(Response).order_by(Response.id))]

    erase(runner, ANA, "--yes")

    after = answers()
    assert after.keys() == before.keys()
    for key, (value, was_negative) in before.items():
        if key[1] in ("one_thing", "preferences", "anything_else"):
            assert after[key] == ("", was_negative)
        else:
            assert after[key] == (value, was_negative)
    assert [r.negative for r in session.scalars(select(Response).order_by(Response.id))] == negative
    assert count(session, Touchpoint) > 0
    assert count(session, Touchpoint, Touchpoint.note.is_not(None)) == 0


def test_the_case_stays_with_its_owner_showing_an_erased_customer(
    client, runner, session, clock, people, lived_case
):
    events_before = [e.kind for e in lived_case.events]

    erase(runner, ANA, "--yes")

    case = session.get(Case, lived_case.id)
    assert (case.owner_id, case.status) == (people["owner"].id, "acknowledged")
    assert [e.kind for e in case.events] == events_before
    bodies = {e.kind: e.body for e in case.events}
    assert bodies["reply"] == bodies["note"] == bodies["resolved"] == ERASED_TEXT
    # The fix-check answer keeps the choice, and loses what she wrote.
    assert (
        bodies["reopened"] == "You told us about a problem and we worked on it. "
        "Did our fix work? No, not yet"
    )
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "erased customer" in page
    assert "Ana" not in page and "Olivia Bennett" in page
    assert "Replied to the customer" in page


def test_mail_waiting_for_the_customer_is_cancelled_but_owners_still_hear(
    runner, session, clock, fake_sendgrid, lived_case
):
    to_owner = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.to_email == "olivia@shop.example", OutboxMessage.status == "pending"
        )
    ).all()
    assert [m.template for m in to_owner] == ["case_reopened"]

    erase(runner, ANA, "--yes")

    survey = session.scalars(select(Survey).order_by(Survey.id.desc()).limit(1)).one()
    assert (survey.status, survey.status_reason) == ("cancelled", "the customer's data was erased")
    waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.survey_id == survey.id))
    assert [m.status for m in waiting] == ["cancelled"]
    assert count(session, OutboxMessage, OutboxMessage.to_email == ANA) == 0
    already_accepted = len(fake_sendgrid.accepted)
    run_worker(runner)
    [mail] = fake_sendgrid.accepted[already_accepted:]
    assert mail.to_email == "olivia@shop.example"
    assert "erased customer" in mail.subject
    assert STILL_BROKEN not in mail.text


def test_an_erased_customer_is_never_surveyed_again(runner, session, clock, lived_case):
    erase(runner, ANA, "--yes")

    customer = session.get(Customer, lived_case.customer_id)
    survey = schedule_survey(
        session,
        customer=customer,
        kind="relationship_review",
        now=clock.now(),
        question_set=get_question_set(session, "relationship-review"),
    )
    assert survey.status == "suppressed"


def test_erasing_again_changes_nothing(runner, session, clock, lived_case):
    erase(runner, ANA, "--yes")
    customer = session.get(Customer, lived_case.customer_id)
    placeholder, erased_at = customer.email, customer.erased_at
    before = everything_stored(session)
    clock.advance(days=1)

    result = erase(runner, placeholder)  # no confirmation: nothing personal is left to lose

    assert result.exit_code == 0, result.output
    assert "was already erased on 2026-11-23" in result.output
    assert everything_stored(session) == before
    customer = session.get(Customer, lived_case.customer_id)
    assert (customer.email, customer.erased_at) == (placeholder, erased_at)
    assert count(session, AuditEntry, AuditEntry.action == "customer.erased") == 1


def test_the_old_address_no_longer_finds_the_erased_customer(runner, session, clock, lived_case):
    erase(runner, ANA, "--yes")

    result = erase(runner, ANA, "--yes")

    assert result.exit_code == 1
    assert f"No customer has the address {ANA}." in result.output


def test_an_unknown_address_is_a_clear_error(runner, session):
    result = erase(runner, "nobody@example.com", "--yes")

    assert result.exit_code == 1
    assert "Error: No customer has the address nobody@example.com." in result.output


def test_it_asks_first_and_no_keeps_everything(runner, session, clock):
    customer = make_customer(session, email="ben@example.com", name="Ben Okafor")
    session.commit()

    refused = erase(runner, "Ben@Example.com", input="n\n")

    assert refused.exit_code == 1
    assert "This erases the personal data of Ben Okafor <ben@example.com>" in refused.output
    assert "Erase it? [y/N]" in refused.output
    assert session.get(Customer, customer.id).erased_at is None

    agreed = erase(runner, "ben@example.com", input="y\n")

    assert agreed.exit_code == 0, agreed.output
    assert session.get(Customer, customer.id).erased_at == clock.now()


def test_the_service_scrubs_a_name_only_as_a_whole_word(session, clock):
    owner = make_user(session)
    customer = make_customer(session, email="al@example.com", name="Al")
    case = make_case(session, owner=owner, customer=customer, now=clock.now())
    case.events.append(
        CaseEvent(
            kind="fix_check_sent",
            created_at=clock.now(),
            body="Asked Al whether the fix worked. Always ask.",
        )
    )
    session.flush()

    erasure = erase_customer(session, customer, now=clock.now())

    assert erasure.newly_erased and erasure.cases_kept == 1
    body = session.scalars(select(CaseEvent.body).where(CaseEvent.kind == "fix_check_sent")).one()
    assert body == "Asked erased customer whether the fix worked. Always ask."
