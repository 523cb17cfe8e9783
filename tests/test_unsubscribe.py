"""Unsubscribing through /u/<token>: GET confirms, POST (RFC 8058 one-click) takes effect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.models import Customer, OutboxMessage, Survey
from surveys.outbox.enqueue import enqueue_email
from surveys.services.customers.unsubscribe import unsubscribe_customer
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from surveys.services.surveys.tokens import mint_token
from tests.factories import make_customer, make_sent_survey
from tests.pages import page

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def customer(session):
    return make_customer(session, name="Ana Diaz", email="ana@example.com")


@pytest.fixture
def token(session, customer, clock):
    _survey, raw = make_sent_survey(session, customer, sent_at=clock.now())
    session.commit()
    return raw


def schedule(session, customer, clock, *, days: int, kind: str = "manual") -> Survey:
    question_set = "fix-check" if kind == "fix_check" else "heart-to-heart"
    return schedule_survey(
        session,
        customer=customer,
        kind=kind,
        question_set=get_question_set(session, question_set),
        now=clock.now(),
        send_at=clock.now() + timedelta(days=days),
    )


def test_get_shows_a_confirmation_and_unsubscribes_nobody(client, session, customer, token):
    response = client.get(f"/u/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ana@example.com" in html and ">Unsubscribe</button>" in html
    assert session.get(Customer, customer.id).suppressed_at is None
    assert "Set-Cookie" not in response.headers


def test_one_click_post_unsubscribes_at_once_without_cookie_or_csrf(
    client, session, customer, token, clock
):
    response = client.post(f"/u/{token}", data=ONE_CLICK)
    assert response.status_code == 200
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert "You are unsubscribed" in response.get_data(as_text=True)
    customer = session.get(Customer, customer.id)
    assert (customer.suppressed_at, customer.suppression_reason) == (clock.now(), "unsubscribed")


def test_button_on_the_confirmation_page_posts_the_one_click_form(client, session, customer, token):
    shown = page(client.get(f"/u/{token}"))
    form = shown.one("form")
    fields = shown.hidden_fields(form)
    assert form["action"] == f"/u/{token}" and fields == ONE_CLICK
    assert client.post(form["action"], data=fields).status_code == 200
    assert session.get(Customer, customer.id).suppressed_at is not None


def test_unsubscribing_cancels_surveys_not_yet_sent_but_not_personal_replies(
    client, session, customer, token, clock
):
    # A fix-check is never throttled, so it is scheduled despite the survey just sent.
    later = schedule(session, customer, clock, days=2, kind="fix_check")
    assert later.status == "scheduled"
    reply = enqueue_email(
        session, template="reply", to_email=customer.email, now=clock.now(), customer=customer
    )
    session.commit()
    client.post(f"/u/{token}", data=ONE_CLICK)
    later = session.get(Survey, later.id)
    assert later.status == "cancelled"
    assert "suppressed (unsubscribed)" in later.status_reason
    statuses = dict(session.execute(select(OutboxMessage.template, OutboxMessage.status)).all())
    assert statuses == {"survey": "cancelled", "reply": "pending"}
    assert session.get(OutboxMessage, reply.id).status == "pending"


def test_unsubscribed_customer_is_never_surveyed_again(client, session, customer, token, clock):
    client.post(f"/u/{token}", data=ONE_CLICK)
    customer = session.get(Customer, customer.id)
    assert schedule(session, customer, clock, days=0).status == "suppressed"


def test_second_unsubscribe_keeps_the_first_time(client, session, customer, token, clock):
    client.post(f"/u/{token}", data=ONE_CLICK)
    first = clock.now()
    clock.advance(days=3)
    again = client.post(f"/u/{token}", data=ONE_CLICK)
    assert again.status_code == 200
    assert session.get(Customer, customer.id).suppressed_at == first
    assert "You are unsubscribed" in client.get(f"/u/{token}").get_data(as_text=True)


def test_unsubscribe_only_token_works(client, session, customer):
    raw = mint_token(session, customer_id=customer.id)
    session.commit()
    assert client.get(f"/u/{raw}").status_code == 200
    assert client.post(f"/u/{raw}", data=ONE_CLICK).status_code == 200
    assert session.get(Customer, customer.id).suppressed_at is not None


def test_link_of_an_expired_survey_still_unsubscribes(client, session, customer, token, clock):
    clock.advance(days=31)
    assert client.get(f"/s/{token}").status_code == 410
    assert client.post(f"/u/{token}", data=ONE_CLICK).status_code == 200
    assert session.get(Customer, customer.id).suppressed_at == clock.now()


def test_unknown_token_is_404(client, token):
    assert client.get("/u/not-a-real-token").status_code == 404
    assert client.post("/u/not-a-real-token", data=ONE_CLICK).status_code == 404


def test_service_is_idempotent_and_the_first_reason_wins(session, customer, clock):
    assert unsubscribe_customer(session, customer, now=clock.now(), reason="bounce") is True
    assert unsubscribe_customer(session, customer, now=clock.now() + timedelta(hours=1)) is False
    assert (customer.suppressed_at, customer.suppression_reason) == (clock.now(), "bounce")
