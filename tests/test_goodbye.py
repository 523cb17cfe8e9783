"""A graceful goodbye: unsubscribing signed by the account owner, the optional why, the owner
told once, the way back, and an owner ending a relationship with a letter of their own."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.models import AuditEntry, Customer, Goodbye, OutboxMessage, Survey, Touchpoint
from surveys.services.customers.erasure import erase_customer
from tests.factories import make_customer, make_sent_survey, make_user
from tests.journey import run_worker
from tests.pages import page, text_of
from tests.web import csrf_token, log_in

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
OLIVIA = "olivia@shop.example"


@pytest.fixture
def olivia(session):
    return make_user(session, name="Olivia Bennett", email=OLIVIA)


@pytest.fixture
def ana(session, olivia):
    return make_customer(session, name="Ana Diaz", email="ana@example.com", owner=olivia)


@pytest.fixture
def token(session, ana, clock):
    _survey, raw = make_sent_survey(session, ana, sent_at=clock.now())
    session.commit()
    return raw


def notices(session, template: str = "customer_unsubscribed") -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        )
    )


def mails_of(fake_sendgrid, template: str) -> list:
    return [mail for mail in fake_sendgrid.accepted if mail.categories == [template]]


def touches(session, customer) -> list[tuple[str, str, str | None]]:
    return [
        (t.kind, t.polarity, t.note)
        for t in session.scalars(
            select(Touchpoint).where(Touchpoint.customer_id == customer.id).order_by(Touchpoint.id)
        )
    ]


# --- the customer unsubscribes ---------------------------------------------------------------


def test_the_confirmation_and_the_goodbye_are_signed_by_the_account_owner(client, token):
    asked = page(client.get(f"/u/{token}"))
    done = page(client.post(f"/u/{token}", data=ONE_CLICK))

    assert text_of(asked.one(".signature")).startswith("Olivia Bennett")
    assert text_of(done.one(".signature")).startswith("Olivia Bennett")
    assert "You are unsubscribed" in done.text
    # Saying why is offered after, never asked before.
    assert not asked.find("form[action$='/why']")
    assert done.one(f"form[action='/u/{token}/why']")


def test_without_an_account_owner_the_default_owner_signs(client, session, clock):
    make_user(session, role="admin", name="Alex Morgan")
    customer = make_customer(session, email="ben@example.com", owner=None)
    _survey, raw = make_sent_survey(session, customer, sent_at=clock.now())
    session.commit()

    shown = page(client.post(f"/u/{raw}", data=ONE_CLICK))

    assert text_of(shown.one(".signature")).startswith("Alex Morgan")


def test_unsubscribing_tells_the_owner_once_and_counts_a_negative_touch(
    client, session, runner, clock, fake_sendgrid, ana, token
):
    client.post(f"/u/{token}", data=ONE_CLICK)
    client.post(f"/u/{token}", data=ONE_CLICK)  # the provider's one click, then the button

    assert touches(session, ana) == [("unsubscribed", "negative", "did not say why")]
    assert session.get(Customer, ana.id).negative_touches == 1
    [notice] = notices(session)
    # It waits a little, so that a reason given right away travels in the same email.
    assert notice.next_attempt_at == clock.now() + timedelta(minutes=10)
    run_worker(runner)
    assert mails_of(fake_sendgrid, "customer_unsubscribed") == []

    clock.advance(minutes=11)
    run_worker(runner)
    run_worker(runner)

    [mail] = mails_of(fake_sendgrid, "customer_unsubscribed")
    assert mail.to_email == OLIVIA
    assert mail.subject == "Ana Diaz unsubscribed from our surveys"
    assert "They did not say why." in mail.text
    assert f"http://surveys.test/customers/{ana.id}" in mail.text


def test_a_reason_given_before_the_notice_leaves_travels_in_it(
    client, session, runner, clock, fake_sendgrid, ana, token
):
    client.post(f"/u/{token}", data=ONE_CLICK)
    clock.advance(minutes=2)

    thanked = client.post(
        f"/u/{token}/why",
        data={"reason": "bad_experience", "words": "The chair arrived broken, twice."},
    )
    clock.advance(minutes=10)
    run_worker(runner)

    assert thanked.status_code == 200
    shown = page(thanked)
    assert "Thank you for telling us" in shown.text and "Olivia Bennett will read it" in shown.text
    assert not shown.find("form[action$='/why']")
    [mail] = mails_of(fake_sendgrid, "customer_unsubscribed")
    assert "I had a bad experience" in mail.text
    assert "The chair arrived broken, twice." in mail.text and "The chair arrived" in mail.html
    assert mails_of(fake_sendgrid, "customer_said_why") == []
    assert touches(session, ana) == [
        ("unsubscribed", "negative", "I had a bad experience: “The chair arrived broken, twice.”")
    ]


def test_a_reason_given_after_the_notice_left_comes_in_a_second_email(
    client, session, runner, clock, fake_sendgrid, token
):
    client.post(f"/u/{token}", data=ONE_CLICK)
    clock.advance(minutes=11)
    run_worker(runner)

    client.post(f"/u/{token}/why", data={"reason": "too_often"})
    run_worker(runner)

    [first] = mails_of(fake_sendgrid, "customer_unsubscribed")
    [second] = mails_of(fake_sendgrid, "customer_said_why")
    assert "They did not say why." in first.text
    assert second.to_email == OLIVIA
    assert second.subject == "Ana Diaz told us why they unsubscribed"
    assert "You wrote to me too often" in second.text


def test_saying_why_twice_keeps_the_first_answer_and_sends_nothing_more(
    client, session, runner, clock, fake_sendgrid, ana, token
):
    client.post(f"/u/{token}", data=ONE_CLICK)
    clock.advance(minutes=11)
    run_worker(runner)
    client.post(f"/u/{token}/why", data={"reason": "too_often"})

    again = client.post(f"/u/{token}/why", data={"reason": "other", "words": "Changed it."})
    run_worker(runner)

    assert again.status_code == 409
    assert "You already told us why" in page(again).text
    goodbye = session.scalars(select(Goodbye)).one()
    session.refresh(goodbye)
    assert (goodbye.reason, goodbye.words) == ("too_often", None)
    assert len(mails_of(fake_sendgrid, "customer_said_why")) == 1


def test_saying_why_before_unsubscribing_changes_nothing(client, session, ana, token):
    refused = client.post(f"/u/{token}/why", data={"reason": "too_often"})

    assert refused.status_code == 409
    assert "You are not unsubscribed" in page(refused).text
    assert session.get(Customer, ana.id).suppressed_at is None
    assert session.scalar(select(func.count(Goodbye.id))) == 0


@pytest.mark.parametrize(
    "data, field",
    [
        ({"reason": "you-are-the-worst"}, "reason"),
        ({}, "reason"),
        ({"words": "x" * 1001}, "words"),
        ({"words": "I left\x00"}, "words"),
        ({"words": "a file, not text"}, "words"),
    ],
)
def test_a_reason_we_cannot_keep_is_shown_at_its_field_and_nothing_changes(
    client, session, ana, token, data, field
):
    client.post(f"/u/{token}", data=ONE_CLICK)
    if data.get("words") == "a file, not text":
        # A fresh file for each database's run: a posted one is closed once read.
        data = {"words": (io.BytesIO(b"GIF89a"), "why.gif")}

    refused = client.post(f"/u/{token}/why", data=data)

    assert refused.status_code == 422
    shown = page(refused)
    assert shown.field_errors(field, shown.one("form[action$='/why']"))
    goodbye = session.scalars(select(Goodbye)).one()
    session.refresh(goodbye)
    assert goodbye.said_why_at is None and goodbye.reason is None and goodbye.words is None


def test_coming_back_undoes_the_unsubscribe_and_the_owner_is_not_told(
    client, session, runner, clock, fake_sendgrid, ana, token
):
    shown = page(client.post(f"/u/{token}", data=ONE_CLICK))
    assert shown.one(f"form[action='/u/{token}/back']")

    back = client.post(f"/u/{token}/back")
    clock.advance(minutes=11)
    run_worker(runner)

    assert back.status_code == 200 and "Welcome back" in page(back).text
    customer = session.get(Customer, ana.id)
    session.refresh(customer)
    assert customer.suppressed_at is None and customer.suppression_reason is None
    assert mails_of(fake_sendgrid, "customer_unsubscribed") == []
    [notice] = notices(session)
    session.refresh(notice)
    assert notice.status == "cancelled"
    # The unsubscribe page offers the confirmation again.
    assert ">Unsubscribe</button>" in client.get(f"/u/{token}").get_data(as_text=True)


def test_a_bounced_address_cannot_come_back_from_the_page(client, session, ana, token, clock):
    ana.suppressed_at, ana.suppression_reason = clock.now(), "bounce"
    session.commit()

    shown = page(client.get(f"/u/{token}"))
    refused = client.post(f"/u/{token}/back")

    assert not shown.find("form[action$='/back']")
    assert refused.status_code == 409
    session.refresh(ana)
    assert ana.suppression_reason == "bounce"


# --- the owner ends the relationship ---------------------------------------------------------


def test_an_owner_ends_a_relationship_with_a_letter_of_their_own(
    client, session, runner, clock, fake_sendgrid, olivia, ana
):
    log_in(client, olivia)
    shown = page(client.get(f"/customers/{ana.id}"))
    draft = shown.one("#letter").get_text().lstrip("\r\n")  # as a browser reads it
    assert draft.startswith("Dear Ana,") and draft.rstrip().endswith("Olivia Bennett")
    letter = "Dear Ana,\n\nThank you for six good years.\nWe will stop our surveys today.\n\nOlivia"

    done = client.post(
        f"/customers/{ana.id}/goodbye",
        data={"letter": letter, "csrf_token": csrf_token(client, f"/customers/{ana.id}")},
    )
    run_worker(runner)

    assert done.status_code == 302
    customer = session.get(Customer, ana.id)
    session.refresh(customer)
    assert customer.suppressed_at == clock.now()
    assert customer.suppression_reason == "relationship ended by their owner"
    [mail] = mails_of(fake_sendgrid, "goodbye_letter")
    assert (mail.to_email, mail.from_name, mail.reply_to) == (
        "ana@example.com",
        "Olivia Bennett",
        OLIVIA,
    )
    assert mail.text.startswith(letter)
    [entry] = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "customer.relationship_ended")
    ).all()
    assert entry.actor_user_id == olivia.id and entry.target == f"customer {ana.id}"
    assert "ana@example.com" not in str(entry.after)  # erasure does not reach the audit log
    after = page(client.get(f"/customers/{ana.id}"))
    assert "Olivia Bennett ended the relationship" in text_of(after.one(".goodbye"))
    assert "Thank you for six good years." in text_of(after.one(".goodbye"))
    # No more surveys.
    make_sent_survey(session, ana, sent_at=clock.now())
    assert session.scalar(select(func.count(Survey.id)).where(Survey.customer_id == ana.id)) == 1


def test_ending_a_relationship_twice_sends_one_letter(
    client, session, runner, fake_sendgrid, olivia, ana
):
    log_in(client, olivia)
    token = csrf_token(client, f"/customers/{ana.id}")
    first = client.post(
        f"/customers/{ana.id}/goodbye", data={"letter": "Goodbye.", "csrf_token": token}
    )

    second = client.post(
        f"/customers/{ana.id}/goodbye", data={"letter": "Goodbye again.", "csrf_token": token}
    )
    run_worker(runner)

    assert first.status_code == 302 and second.status_code == 409
    assert "already ended" in page(second).text
    assert len(mails_of(fake_sendgrid, "goodbye_letter")) == 1


def test_an_empty_letter_is_refused_at_its_field(client, session, olivia, ana):
    log_in(client, olivia)

    refused = client.post(
        f"/customers/{ana.id}/goodbye",
        data={"letter": "   ", "csrf_token": csrf_token(client, f"/customers/{ana.id}")},
    )

    assert refused.status_code == 422
    shown = page(refused)
    assert shown.field_errors("letter") == ["Write the letter the customer will read."]
    session.refresh(ana)
    assert ana.suppressed_at is None
    assert session.scalar(select(func.count(Goodbye.id))) == 0


def test_another_owners_customer_cannot_be_said_goodbye_to(client, session, olivia, ana):
    other = make_user(session, name="Otto Other")
    session.commit()
    log_in(client, other)

    refused = client.post(
        f"/customers/{ana.id}/goodbye",
        data={"letter": "Bye.", "csrf_token": csrf_token(client, "/inbox")},
    )

    assert refused.status_code == 404
    assert session.scalar(select(func.count(Goodbye.id))) == 0


def test_erasing_the_customer_blanks_what_they_and_their_owner_wrote(
    client, session, clock, ana, token
):
    client.post(f"/u/{token}", data=ONE_CLICK)
    client.post(f"/u/{token}/why", data={"reason": "other", "words": "My name is Ana Diaz."})

    erase_customer(session, session.get(Customer, ana.id), now=clock.now())
    session.commit()

    goodbye = session.scalars(select(Goodbye)).one()
    session.refresh(goodbye)
    assert goodbye.words is None and goodbye.letter is None
