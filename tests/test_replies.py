"""Replying the way the essays ask: the owner says back what they understood, in their own
words, and what they will do; the customer gets one letter. Resolving says what was done
and when to ask whether it worked; the fix-check email quotes it, sent when chosen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from surveys.models import Case, CaseEvent, OutboxMessage, Survey
from surveys.services.cases.replies import COPY_MESSAGE, compose_letter, is_copy
from surveys.services.cases.timeline import record_event
from tests.factories import make_api_key, make_user
from tests.journey import (
    UNHAPPY,
    act_on_case,
    bearer,
    latest_fix_check_path,
    log_in_as,
    mails_to,
    run_worker,
    unhappy_customer,
)
from tests.pages import page
from tests.test_admin_settings import post_settings
from tests.web import log_in

ANA = "ana@example.com"
THEIR_WORDS = UNHAPPY["one_thing"]  # "The keyboard arrived with a broken key and nobody …"
UNDERSTOOD = (
    "One of the keys on your new keyboard was broken, and when you wrote to us nobody replied."
)
WILL_DO = "A new keyboard leaves today by express and reaches you on Thursday."
RESOLUTION = "Sent a new keyboard by express; it was delivered on Thursday."

# --- what counts as a copy: the table the thresholds were chosen with ----------------------

COURIER = "The courier was rude, the box arrived crushed and I want a refund"
SLOW = "Too slow"
LATE = (
    "Delivery took three weeks instead of the two days promised on the website, "
    "and the tracking link never worked."
)
COPIES = [
    (COURIER, COURIER),
    (COURIER, "The courier was rude, the box arrived crushed and you want a refund."),
    (COURIER, "You told us: “The courier was rude, the box arrived crushed and I want a refund”"),
    (COURIER, "the box arrived crushed and I want a refund"),
    (COURIER, "I want a refund, the box arrived crushed and the courier was rude"),
    (COURIER, "The courier was rood, the box arived crushed and I want a refund"),
    (
        THEIR_WORDS,
        "You said: the keyboard arrived with a broken key and nobody answered your email",
    ),
    (THEIR_WORDS, "keyboard arrived with a broken key"),
    (THEIR_WORDS, "The keyboard arrived with a broken key and nobody answered your e-mail."),
    (THEIR_WORDS, "THE KEYBOARD ARRIVED WITH A BROKEN KEY AND NOBODY ANSWERED MY EMAIL!!"),
    (SLOW, "too slow."),
    (
        LATE,
        "Delivery took three weeks instead of the two days promised, and the tracking "
        "link never worked.",
    ),
    (
        LATE,
        "So: delivery took three weeks instead of the two days promised on the website "
        "and the tracking link never worked",
    ),
]
PARAPHRASES = [
    (
        COURIER,
        "Our courier was rude to you and your parcel came damaged, so you would like "
        "your money back.",
    ),
    (COURIER, "You would like a refund because the box was crushed and the courier was rude."),
    (
        COURIER,
        "You were treated badly at the door and the box came in bad shape; you want "
        "your money back.",
    ),
    (THEIR_WORDS, UNDERSTOOD),
    (THEIR_WORDS, "Your keyboard came with a broken key and your email went unanswered."),
    (THEIR_WORDS, "The keyboard had a broken key and we ignored you."),
    (THEIR_WORDS, "A broken key on arrival, then silence from us when you emailed."),
    (SLOW, "You waited far longer than you should have."),
    (SLOW, "It was too slow for you: you needed it sooner."),
    (
        LATE,
        "We promised two days and it took three weeks, and you could not even follow the parcel.",
    ),
    (LATE, "The delivery took much longer than our site said and tracking didn't work."),
    (
        LATE,
        "You were let down twice: the delivery was weeks late and the tracking link was broken.",
    ),
]


@pytest.mark.parametrize("theirs, mine", COPIES)
def test_a_copy_of_the_customers_words_counts_as_a_copy(theirs, mine):
    assert is_copy(mine, theirs)


@pytest.mark.parametrize("theirs, mine", PARAPHRASES)
def test_a_real_paraphrase_is_not_a_copy(theirs, mine):
    assert not is_copy(mine, theirs)


# --- the reply on the case page ---------------------------------------------------------------


@pytest.fixture
def people(session):
    owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    admin = make_user(session, role="admin", email="alex@shop.example", name="Alex Morgan")
    _key, raw = make_api_key(session, "Shop")
    session.commit()
    return {"owner": owner, "admin": admin, "raw_key": raw}


@pytest.fixture
def case(client, session, runner, clock, fake_sendgrid, people):
    """Ana answered unhappily after buying a keyboard; Olivia is her account owner."""
    return unhappy_customer(
        client,
        session,
        runner,
        fake_sendgrid,
        raw_key=people["raw_key"],
        owner_email="olivia@shop.example",
    )


def queued(session, template: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))


def replies_of(session, case_id: int) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "reply")
        )
    )


def field_errors(response, case_id: int, action: str, name: str) -> list[str]:
    shown = page(response)
    return shown.field_errors(name, shown.form(f"/cases/{case_id}/{action}"))


@pytest.mark.parametrize(
    "copied",
    [
        THEIR_WORDS,
        f"You told us: “{THEIR_WORDS}”",
        "The keyboard arrived with a broken key and nobody answered your email.",
        # Their preferences are their words too.
        "You work nights, so please email rather than call.",
    ],
)
def test_a_paraphrase_copied_from_the_customer_is_refused_on_the_page(
    client, session, people, case, copied
):
    log_in(client, people["owner"])

    response = act_on_case(client, case.id, "replies", understood=copied, will_do=WILL_DO)

    assert response.status_code == 422
    assert field_errors(response, case.id, "replies", "understood") == [COPY_MESSAGE]
    # What the owner wrote stays in the form, for them to rework.
    assert page(response).field_value("will_do") == WILL_DO
    assert replies_of(session, case.id) == [] and queued(session, "reply") == []
    assert session.get(Case, case.id).status == "open"


def test_the_customer_gets_one_letter_with_one_greeting_and_both_parts(
    client, session, runner, people, case, fake_sendgrid
):
    log_in(client, people["owner"])

    response = act_on_case(
        client,
        case.id,
        "replies",
        # A greeting typed out of habit: the letter has its own.
        understood=f"Hi Ana,\n{UNDERSTOOD}",
        will_do=WILL_DO,
    )

    assert response.status_code == 302
    run_worker(runner)
    [letter] = [mail for mail in mails_to(fake_sendgrid, ANA) if mail.categories == ["reply"]]
    assert letter.text.count("Hi Ana") == 1 and letter.html.count("Hi Ana") == 1
    assert letter.text.index("Hi Ana") < letter.text.index(UNDERSTOOD)
    assert letter.text.index(UNDERSTOOD) < letter.text.index(WILL_DO)
    assert "I want to be sure I have understood you" in letter.text
    assert "Here is what I will do" in letter.text
    assert letter.from_name == "Olivia Bennett" and letter.reply_to == "olivia@shop.example"
    [event] = replies_of(session, case.id)
    assert event.body == compose_letter(UNDERSTOOD, WILL_DO)
    assert event.data["understood"] == UNDERSTOOD and event.data["will_do"] == WILL_DO
    assert session.get(Case, case.id).status == "acknowledged"


def test_what_the_customer_wrote_back_counts_as_their_words_too(
    client, session, people, case, clock
):
    # The inbound mail writes these; here the event is recorded as it would be.
    record_event(
        session,
        session.get(Case, case.id),
        "customer_replied",
        now=clock.now(),
        body="The replacement is also missing the space bar, I am losing patience.",
        data={"subject": "Re: About your keyboard", "attachments": []},
    )
    session.commit()
    log_in(client, people["owner"])

    response = act_on_case(
        client,
        case.id,
        "replies",
        understood="the replacement is also missing the space bar, you are losing patience",
        will_do=WILL_DO,
    )

    assert response.status_code == 422
    assert field_errors(response, case.id, "replies", "understood") == [COPY_MESSAGE]


def test_both_parts_are_required_and_only_a_greeting_is_nothing(client, session, people, case):
    log_in(client, people["owner"])

    response = act_on_case(client, case.id, "replies", understood="Hi Ana,", will_do="  ")

    assert response.status_code == 422
    assert field_errors(response, case.id, "replies", "will_do") == [
        "Say what you will do about it, and by when."
    ]
    response = act_on_case(client, case.id, "replies", understood="Hi Ana,", will_do=WILL_DO)
    assert response.status_code == 422
    assert field_errors(response, case.id, "replies", "understood") == [
        "Say in your own words what you understood from what they wrote."
    ]
    assert replies_of(session, case.id) == []


# --- the reply through the API ----------------------------------------------------------------


def api_reply(client, people, case_id: int, body):
    return client.post(
        f"/api/v1/cases/{case_id}/replies", json=body, headers=bearer(people["raw_key"])
    )


def test_the_api_refuses_a_copied_paraphrase_naming_the_field(client, session, people, case):
    response = api_reply(
        client, people, case.id, {"understood": THEIR_WORDS.upper(), "will_do": WILL_DO}
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"understood": [COPY_MESSAGE]}
    assert replies_of(session, case.id) == [] and queued(session, "reply") == []


def test_the_api_sends_a_two_part_reply_as_one_letter(client, session, runner, people, case):
    response = api_reply(client, people, case.id, {"understood": UNDERSTOOD, "will_do": WILL_DO})

    assert response.status_code == 200
    assert response.get_json()["status"] == "acknowledged"
    [event] = replies_of(session, case.id)
    assert event.body == compose_letter(UNDERSTOOD, WILL_DO)
    assert event.data["understood"] == UNDERSTOOD


def test_the_api_still_takes_one_message(client, session, people, case):
    response = api_reply(client, people, case.id, {"message": "A new keyboard leaves today."})

    assert response.status_code == 200
    [event] = replies_of(session, case.id)
    assert event.body == "A new keyboard leaves today."
    assert "understood" not in event.data


@pytest.mark.parametrize(
    "body, error",
    [
        ({}, "must hold `message`, or `understood` and `will_do`"),
        (
            {"message": "Hello.", "understood": UNDERSTOOD, "will_do": WILL_DO},
            "must hold either `message`, or `understood` and `will_do`, not both",
        ),
        (
            {"message": "Hello.", "will_do": WILL_DO},
            "must hold either `message`, or `understood` and `will_do`, not both",
        ),
        (
            {"understood": UNDERSTOOD},
            "must hold `message`, or `understood` and `will_do` (missing: `will_do`)",
        ),
        (
            {"will_do": WILL_DO},
            "must hold `message`, or `understood` and `will_do` (missing: `understood`)",
        ),
    ],
)
def test_the_api_takes_exactly_one_of_the_two_shapes(client, session, people, case, body, error):
    response = api_reply(client, people, case.id, body)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"body": [error]}
    assert replies_of(session, case.id) == []


@pytest.mark.parametrize("field", ["understood", "will_do"])
def test_the_api_names_a_blank_part(client, session, people, case, field):
    body = {"understood": UNDERSTOOD, "will_do": WILL_DO, field: "   "}

    response = api_reply(client, people, case.id, body)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {field: ["is required"]}


# --- resolving: what was done, and when to ask whether it worked ------------------------------


def fix_checks(fake_sendgrid) -> list:
    return [
        mail
        for mail in mails_to(fake_sendgrid, ANA)
        if mail.categories == ["survey"] and "fixed" in mail.subject
    ]


def resolved_event(session, case_id: int) -> CaseEvent:
    return session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "resolved")
    ).one()


def test_the_fix_check_waits_for_the_chosen_days_and_says_what_was_done(
    client, session, runner, clock, people, case, fake_sendgrid
):
    log_in(client, people["owner"])
    resolved_at = clock.now()

    response = act_on_case(client, case.id, "resolve", resolution=RESOLUTION, ask_in_days="3")

    assert response.status_code == 302
    assert (
        "We will ask them whether it worked in 3 days."
        in page(client.get(f"/cases/{case.id}")).flashes()[0]
    )
    ask_at = resolved_at + timedelta(days=3)
    event = resolved_event(session, case.id)
    assert event.data["ask_at"] == ask_at.isoformat() and event.data["ask_in_days"] == 3
    # The case page says when we will ask.
    assert "whether the fix worked" in page(client.get(f"/cases/{case.id}")).text

    # Nothing goes before the chosen moment, however often the worker runs.
    for _ in range(3):
        run_worker(runner)
        clock.advance(hours=23)
    assert clock.now() < ask_at and fix_checks(fake_sendgrid) == []
    assert session.get(Case, case.id).status == "resolved"

    clock.set(ask_at)
    run_worker(runner)

    [mail] = fix_checks(fake_sendgrid)
    assert f"Here is what we did: {RESOLUTION}" in mail.text
    assert RESOLUTION in mail.html
    survey = session.scalars(select(Survey).where(Survey.case_id == case.id)).one()
    assert survey.sent_at.replace(tzinfo=UTC) == ask_at
    # The answer window (fix_check_days) runs from when it reached the customer.
    clock.advance(days=6)
    run_worker(runner)
    assert session.get(Case, case.id).status == "resolved"


def test_now_sends_the_fix_check_at_once(
    client, session, runner, clock, people, case, fake_sendgrid
):
    log_in(client, people["owner"])

    act_on_case(client, case.id, "resolve", resolution=RESOLUTION, ask_in_days="0")
    run_worker(runner)

    [mail] = fix_checks(fake_sendgrid)
    assert f"Here is what we did: {RESOLUTION}" in mail.text
    assert resolved_event(session, case.id).data["ask_at"] == clock.now().isoformat()
    # The link works: the customer answers about what was done.
    assert latest_fix_check_path(fake_sendgrid, ANA).startswith("/s/")


def test_the_default_delay_comes_from_the_settings_page(
    client, session, runner, clock, people, case, fake_sendgrid
):
    log_in(client, people["owner"])
    shown = page(client.get(f"/cases/{case.id}"))
    assert shown.field_value("ask_in_days", shown.form(f"/cases/{case.id}/resolve")) == "2"
    assert shown.options("ask_in_days")["0"] == "Now"
    assert shown.options("ask_in_days")["30"] == "In 30 days"

    log_in_as(client, people["admin"])
    assert post_settings(client, session, fix_check_delay_days="5").status_code == 302
    shown = page(client.get(f"/cases/{case.id}"))
    assert shown.field_value("ask_in_days", shown.form(f"/cases/{case.id}/resolve")) == "5"

    # The API without `ask_in_days` takes the setting too.
    response = client.post(
        f"/api/v1/cases/{case.id}/resolve",
        json={"resolution": RESOLUTION},
        headers=bearer(people["raw_key"]),
    )
    assert response.status_code == 200
    assert resolved_event(session, case.id).data["ask_in_days"] == 5
    clock.advance(days=4, hours=23)
    run_worker(runner)
    assert fix_checks(fake_sendgrid) == []
    clock.advance(hours=1)
    run_worker(runner)
    assert len(fix_checks(fake_sendgrid)) == 1


@pytest.mark.parametrize("value", ["31", "-1", "two", "1e3", "９"])
def test_a_delay_out_of_range_is_refused_on_the_page(client, session, people, case, value):
    log_in(client, people["owner"])

    response = act_on_case(client, case.id, "resolve", resolution=RESOLUTION, ask_in_days=value)

    assert response.status_code == 422
    assert field_errors(response, case.id, "resolve", "ask_in_days") == [
        "Choose when to ask whether it worked: now, or in 1 to 30 days."
    ]
    assert session.get(Case, case.id).status == "open"
    assert session.scalars(select(Survey).where(Survey.case_id == case.id)).all() == []


@pytest.mark.parametrize("value", [31, -1, "2", True, 1.5, None])
def test_a_delay_out_of_range_is_refused_by_the_api(client, session, people, case, value):
    response = client.post(
        f"/api/v1/cases/{case.id}/resolve",
        json={"resolution": RESOLUTION, "ask_in_days": value},
        headers=bearer(people["raw_key"]),
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"ask_in_days": ["must be a whole number from 0 to 30"]}
    assert session.get(Case, case.id).status == "open"


def test_the_api_resolves_with_a_chosen_delay(client, session, runner, clock, people, case):
    response = client.post(
        f"/api/v1/cases/{case.id}/resolve",
        json={"resolution": RESOLUTION, "ask_in_days": 1},
        headers=bearer(people["raw_key"]),
    )

    assert response.status_code == 200
    survey = session.scalars(select(Survey).where(Survey.case_id == case.id)).one()
    assert survey.send_at.replace(tzinfo=UTC) == clock.now() + timedelta(days=1)


def test_a_delayed_fix_check_keeps_out_of_the_customers_quiet_hours(
    client, session, runner, clock, people, case
):
    # Ana lives in Madrid; resolved at 22:30 there, a day later is still night.
    session.get(Case, case.id).customer.timezone = "Europe/Madrid"
    session.commit()
    clock.set(datetime(2026, 11, 23, 21, 30, tzinfo=UTC))

    client.post(
        f"/api/v1/cases/{case.id}/resolve",
        json={"resolution": RESOLUTION, "ask_in_days": 1},
        headers=bearer(people["raw_key"]),
    )

    survey = session.scalars(select(Survey).where(Survey.case_id == case.id)).one()
    # 08:00 in Madrid the morning after the chosen day.
    assert survey.send_at.replace(tzinfo=UTC) == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def test_a_waiting_fix_check_is_not_sent_once_the_case_is_worked_on_again(
    client, session, runner, clock, people, case, fake_sendgrid
):
    log_in(client, people["owner"])
    act_on_case(client, case.id, "resolve", resolution=RESOLUTION, ask_in_days="2")
    # The customer wrote back meanwhile and the case reopened (the inbound mail does this).
    stored = session.get(Case, case.id)
    stored.status, stored.resolved_at = "acknowledged", None
    session.commit()

    clock.advance(days=2)
    run_worker(runner)

    assert fix_checks(fake_sendgrid) == []
    survey = session.scalars(select(Survey).where(Survey.case_id == case.id)).one()
    assert survey.status == "cancelled"
