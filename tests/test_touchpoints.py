"""Touch points: contacts made elsewhere through POST /api/v1/touchpoints, and the ones the
service records itself, each counted against the aim of ten positive to one negative."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.models import Case, Touchpoint
from surveys.services.customers.touchpoints import (
    Tally,
    TouchpointError,
    record_touchpoint,
    tally_for,
)
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_api_key, make_case, make_customer, make_sent_survey, make_user
from tests.journey import answer_survey, bearer, mails_to, run_worker, survey_path
from tests.pages import page, text_of
from tests.test_openapi import assert_documented
from tests.web import csrf_token, log_in

ANA = "ana@example.com"


@pytest.fixture
def raw_key(session):
    _key, raw = make_api_key(session)
    session.commit()
    return raw


@pytest.fixture
def ana(session):
    customer = make_customer(session, email=ANA, name="Ana Diaz")
    session.commit()
    return customer


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def post_touchpoint(client, raw_key: str, body):
    return client.post("/api/v1/touchpoints", json=body, headers=bearer(raw_key))


def test_an_invoice_is_recorded_as_a_negative_touch(client, session, raw_key, ana, clock, document):
    response = post_touchpoint(
        client,
        raw_key,
        {
            "customer_email": "Ana@Example.com",
            "kind": "invoice",
            "polarity": "negative",
            "note": "Invoice 2026-114",
            "occurred_at": "2026-11-20T15:30:00+01:00",
        },
    )

    assert response.status_code == 201
    assert_documented(document, "/api/v1/touchpoints", "POST", response)
    body = response.get_json()
    assert body == {
        "id": body["id"],
        "customer_email": ANA,
        "kind": "invoice",
        "polarity": "negative",
        "note": "Invoice 2026-114",
        "occurred_at": "2026-11-20T14:30:00Z",
    }
    stored = session.get(Touchpoint, body["id"])
    assert stored.customer_id == ana.id
    customer = client.get(f"/api/v1/customers?email={ANA}", headers=bearer(raw_key)).get_json()
    assert customer["touchpoints"] == {"positive": 0, "negative": 1, "ratio": 0.0}


def test_without_occurred_at_the_contact_happened_now(client, session, raw_key, ana, clock):
    response = post_touchpoint(
        client, raw_key, {"customer_email": ANA, "kind": "phone_call", "polarity": "positive"}
    )

    assert response.status_code == 201
    assert response.get_json()["occurred_at"] == "2026-11-23T09:00:00Z"
    assert response.get_json()["note"] is None


@pytest.mark.parametrize(
    "body, errors",
    [
        (
            {"customer_email": ANA, "kind": "invoice", "polarity": "friendly"},
            {"polarity": ["must be 'positive', 'negative' or 'neutral'"]},
        ),
        (
            {"customer_email": "nobody@example.com", "kind": "invoice", "polarity": "negative"},
            {"customer_email": ["no customer has this email address"]},
        ),
        (
            {"customer_email": "nobody", "kind": "invoice", "polarity": "bad"},
            {
                "customer_email": ["must be an email address"],
                "polarity": ["must be 'positive', 'negative' or 'neutral'"],
            },
        ),
        ({"kind": "invoice", "polarity": "negative"}, {"customer_email": ["is required"]}),
        ({"customer_email": ANA, "polarity": "negative"}, {"kind": ["is required"]}),
        (
            {"customer_email": ANA, "kind": "x" * 65, "polarity": "negative"},
            {"kind": ["must be at most 64 characters"]},
        ),
        (
            {"customer_email": ANA, "kind": "in\nvoice", "polarity": "negative"},
            {"kind": ["must be a single line"]},
        ),
        (
            {
                "customer_email": ANA,
                "kind": "invoice",
                "polarity": "negative",
                "occurred_at": "yesterday",
            },
            {
                "occurred_at": [
                    "must be an RFC 3339 date-time with an offset, like 2026-11-22T10:00:00Z"
                ]
            },
        ),
        (
            {
                "customer_email": ANA,
                "kind": "invoice",
                "polarity": "negative",
                "occurred_at": "0001-01-01T00:00:00+01:00",
            },
            {"occurred_at": ["is out of range (the year must be between 1900 and 8999)"]},
        ),
        (
            {
                "customer_email": ANA,
                "kind": "invoice",
                "polarity": "negative",
                "occurred_at": "2026-11-24T09:00:00Z",
            },
            {"occurred_at": ["must not be in the future"]},
        ),
        (
            {"customer_email": ANA, "kind": "invoice", "polarity": True},
            {"polarity": ["must be 'positive', 'negative' or 'neutral'"]},
        ),
        (
            {"customer_email": ANA, "kind": "invoice", "polarity": "negative", "note": "a\x00"},
            {"note": ["must not contain NUL characters"]},
        ),
    ],
)
def test_a_touch_point_that_does_not_fit_is_a_422_naming_each_field(
    client, session, raw_key, ana, clock, document, body, errors
):
    response = post_touchpoint(client, raw_key, body)

    assert response.status_code == 422
    assert response.get_json()["errors"] == errors
    assert_documented(document, "/api/v1/touchpoints", "POST", response)
    assert session.scalars(select(Touchpoint)).all() == []


def test_recording_a_touch_point_needs_a_key_and_a_json_object(client, session, raw_key, ana):
    assert client.post("/api/v1/touchpoints", json={}).status_code == 401
    assert client.post("/api/v1/touchpoints", data="x", headers=bearer(raw_key)).status_code == 415
    listed = post_touchpoint(client, raw_key, [])
    assert listed.status_code == 422 and listed.get_json()["errors"] == {
        "body": ["must be a JSON object"]
    }
    assert session.scalars(select(Touchpoint)).all() == []


def test_with_no_negative_touch_the_ratio_is_null_and_the_page_says_the_aim_is_met(
    client, session, raw_key, ana, clock
):
    owner = make_user(session)
    ana.owner_id = owner.id
    session.commit()
    for _ in range(3):
        post_touchpoint(
            client,
            raw_key,
            {"customer_email": ANA, "kind": "birthday_card", "polarity": "positive"},
        )

    body = client.get(f"/api/v1/customers?email={ANA}", headers=bearer(raw_key)).get_json()
    log_in(client, owner)
    html = client.get(f"/customers/{ana.id}").get_data(as_text=True)

    assert body["touchpoints"] == {"positive": 3, "negative": 0, "ratio": None}
    assert "No negative touches so far" in html
    assert html.count("Birthday card") == 3


def test_the_ratio_is_positives_per_negative_to_one_decimal(session, ana, clock):
    for polarity, count in (("positive", 10), ("negative", 3)):
        for _ in range(count):
            record_touchpoint(
                session, customer=ana, kind="call", polarity=polarity, now=clock.now()
            )

    tally = tally_for(session, ana)

    assert (tally.positive, tally.negative, tally.ratio) == (10, 3, 3.3)
    assert not tally.meets_aim and tally.positives_needed == 20


def test_a_neutral_contact_is_on_the_ledger_but_not_in_the_ratio(
    client, session, raw_key, ana, clock, document
):
    response = post_touchpoint(
        client,
        raw_key,
        {"customer_email": ANA, "kind": "newsletter", "polarity": "neutral", "note": "November"},
    )

    assert response.status_code == 201
    assert_documented(document, "/api/v1/touchpoints", "POST", response)
    assert response.get_json()["polarity"] == "neutral"
    session.refresh(ana)
    assert tally_for(session, ana) == Tally(0, 0)
    with pytest.raises(TouchpointError) as refused:
        record_touchpoint(session, customer=ana, kind="call", polarity="bad", now=clock.now())
    assert refused.value.field == "polarity"


# --- the touches the service records itself -------------------------------------------------


def kinds_of(session, customer) -> list[tuple[str, str]]:
    return sorted(
        session.execute(
            select(Touchpoint.kind, Touchpoint.polarity).where(
                Touchpoint.customer_id == customer.id
            )
        ).all()
    )


def invite_to_review(session, runner, fake_sendgrid, customer, clock) -> str:
    schedule_survey(
        session,
        customer=customer,
        kind="relationship_review",
        question_set=get_question_set(session, "relationship-review"),
        now=clock.now(),
    )
    session.commit()
    run_worker(runner)
    [mail] = mails_to(fake_sendgrid, customer.email)
    return survey_path(mail)


def test_a_relationship_review_answered_well_is_a_positive_touch(
    client, session, runner, clock, fake_sendgrid, ana
):
    make_user(session, role="admin")
    path = invite_to_review(session, runner, fake_sendgrid, ana, clock)

    answer_survey(client, path, {"expectations": "exceeding"})

    assert kinds_of(session, ana) == [
        ("relationship_review", "positive"),
        ("survey_sent", "neutral"),
        ("thank_you", "neutral"),
    ]
    assert session.scalars(select(Case)).all() == []


def test_a_relationship_review_answered_unhappily_opens_a_case_and_is_a_negative_touch(
    client, session, runner, clock, fake_sendgrid, ana
):
    make_user(session, role="admin", name="Alex Morgan")
    path = invite_to_review(session, runner, fake_sendgrid, ana, clock)

    answer_survey(
        client, path, {"expectations": "short", "issues": "Delivery times have slipped lately."}
    )

    assert kinds_of(session, ana) == [
        ("negative_answer", "negative"),
        ("survey_sent", "neutral"),
        ("thank_you", "neutral"),
    ]
    [case] = session.scalars(select(Case)).all()
    assert case.customer_id == ana.id and case.purchase_id is None
    assert case.acknowledge_by == clock.now() + timedelta(hours=4)


# --- the tally kept on the customer ----------------------------------------------------------


def test_the_tally_is_kept_on_the_customer_as_each_touch_is_recorded(session, ana, clock):
    """The neglected list reads these columns instead of totalling every ledger."""
    now = clock.now()
    record_touchpoint(session, customer=ana, kind="call", polarity="positive", now=now)
    # A contact made elsewhere a week ago does not move the last positive touch back.
    record_touchpoint(
        session,
        customer=ana,
        kind="card",
        polarity="positive",
        now=now,
        occurred_at=now - timedelta(days=7),
    )
    record_touchpoint(session, customer=ana, kind="invoice", polarity="negative", now=now)
    session.commit()

    session.expire_all()
    stored = session.get(type(ana), ana.id)
    assert (stored.positive_touches, stored.negative_touches) == (2, 1)
    assert stored.last_positive_touch_at == now
    assert tally_for(session, stored) == tally_for_ledger(session, stored)


def tally_for_ledger(session, customer):
    polarities = [polarity for _kind, polarity in kinds_of(session, customer)]
    return Tally(polarities.count("positive"), polarities.count("negative"))


# --- the honest ledger: asks are neutral, owners log their own contacts ---------------------


def test_a_reminder_that_reached_the_customer_is_a_neutral_touch(
    session, runner, clock, fake_sendgrid, ana
):
    make_sent_survey(session, ana, sent_at=clock.now() - timedelta(days=4))
    session.commit()

    run_worker(runner)
    run_worker(runner)

    assert kinds_of(session, ana) == [("reminder_sent", "neutral")]
    session.refresh(ana)
    assert tally_for(session, ana) == Tally(0, 0)


def log_contact(client, customer_id: int, **data):
    token = csrf_token(client, f"/customers/{customer_id}")
    return client.post(f"/customers/{customer_id}/contacts", data={**data, "csrf_token": token})


def test_an_owner_logs_a_call_and_a_card_from_the_customer_page(client, session, ana, clock):
    olivia = make_user(session, name="Olivia Bennett")
    ana.owner = olivia
    session.commit()
    log_in(client, olivia)

    called = log_contact(client, ana.id, kind="call", polarity="positive", note="Checked in.")
    carded = log_contact(client, ana.id, kind="card", polarity="neutral")
    complained = log_contact(client, ana.id, kind="visit", polarity="negative", note="Late van.")

    assert [r.status_code for r in (called, carded, complained)] == [302, 302, 302]
    assert kinds_of(session, ana) == [
        ("call", "positive"),
        ("card", "neutral"),
        ("visit", "negative"),
    ]
    session.refresh(ana)
    assert tally_for(session, ana) == Tally(1, 1)
    shown = page(client.get(f"/customers/{ana.id}"))
    ledger_lines = [text_of(li) for li in shown.all("ol.ledger li")]
    assert any("A phone call: Checked in." in line for line in ledger_lines)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "carrier pigeon", "polarity": "positive"}, "kind"),
        ({"kind": "call", "polarity": "ecstatic"}, "polarity"),
        ({"kind": "call", "polarity": "positive", "note": "x" * 2001}, "contact_note"),
        ({"kind": "call", "polarity": "positive", "note": "a\x00b"}, "contact_note"),
    ],
)
def test_a_contact_that_does_not_fit_is_refused_at_its_field(
    client, session, ana, clock, data, field
):
    olivia = make_user(session)
    ana.owner = olivia
    session.commit()
    log_in(client, olivia)

    refused = log_contact(client, ana.id, **data)

    assert refused.status_code == 422
    shown = page(refused)
    assert shown.by_id(f"{field}-errors")
    assert session.scalars(select(Touchpoint)).all() == []


def test_the_profile_suggests_the_next_positive_touch(client, session, ana, clock):
    olivia = make_user(session)
    ana.owner = olivia
    session.commit()
    log_in(client, olivia)

    def suggestion() -> str:
        return text_of(page(client.get(f"/customers/{ana.id}")).one(".next-touch"))

    assert "Nothing positive yet: a call just to check in" in suggestion()
    record_touchpoint(session, customer=ana, kind="invoice", polarity="negative", now=clock.now())
    record_touchpoint(session, customer=ana, kind="call", polarity="positive", now=clock.now())
    session.commit()
    assert "9 more positive touches reach ten to one" in suggestion()
    clock.advance(days=91)
    assert "91 days of quiet" in suggestion()
    case = make_case(session, owner=olivia, customer=ana, now=clock.now())
    session.commit()
    assert f"Case {case.id} is still open" in suggestion()
