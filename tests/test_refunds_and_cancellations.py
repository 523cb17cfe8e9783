"""Refunds and cancellations stop the ask: Shopify, Stripe and the API's cancel.

The purchase's survey and reminder are cancelled if not sent yet (status `cancelled` with the
reason), the address is not suppressed, a refund is a negative touch with its reason, a survey
already answered is kept; each webhook is signed and acts once, and a partial refund changes
nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.models import Customer, OutboxMessage, Purchase, Survey, Touchpoint
from surveys.services.surveys.reminders import queue_reminders
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_customer, make_purchase, make_sent_survey
from tests.test_webhooks_shopify import ORDER
from tests.test_webhooks_stripe import SESSION

SHOPIFY_SECRET = "7f3c9a1e5b2d4f6a8c0e1b3d5f7a9c2e"
STRIPE_SECRET = "whsec_5f1b0a8e2c4d6f8a0b2c4e6f8a1c3e5b"
SHOPIFY_ORDER_ID = f"shopify:{ORDER['id']}"  # 149.80 EUR: one keyboard and two keycap pullers


@pytest.fixture
def auth(session):
    _key, raw = make_api_key(session)
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def providers(app):
    app.config["SHOPIFY_WEBHOOK_SECRET"] = SHOPIFY_SECRET
    app.config["STRIPE_WEBHOOK_SECRET"] = STRIPE_SECRET
    return app


# --- delivering as the providers do -----------------------------------------------------------


def to_shopify(client, payload: dict, topic: str, *, webhook_id: str | None = None, signed=True):
    body = json.dumps(payload).encode()
    signature = base64.b64encode(
        hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()
    ).decode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }
    if signed:
        headers["X-Shopify-Hmac-Sha256"] = signature
    return client.post("/webhooks/shopify", data=body, headers=headers)


def to_stripe(client, type_: str, data_object: dict, *, event_id: str | None = None, signed=True):
    body = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": type_,
            "data": {"object": data_object},
        }
    ).encode()
    timestamp = int(TEST_START.timestamp())
    digest = hmac.new(
        STRIPE_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["Stripe-Signature"] = f"t={timestamp},v1={digest}"
    return client.post("/webhooks/stripe", data=body, headers=headers)


def refund(*, amounts=("149.80",), quantities=(1, 2), status="success") -> dict:
    """A refunds/create refund of the Shopify order (REST shape: transactions and lines)."""
    return {
        "id": 1029266948,
        "order_id": ORDER["id"],
        "created_at": "2026-11-23T10:00:00-05:00",
        "note": "Arrived broken",
        "restock": True,
        "refund_line_items": [
            {"id": 104689 + n, "line_item_id": 14497615544451 + n, "quantity": quantity}
            for n, quantity in enumerate(quantities)
        ],
        "transactions": [
            {
                "id": 389404469 + n,
                "order_id": ORDER["id"],
                "kind": "refund",
                "gateway": "bogus",
                "status": status,
                "amount": amount,
                "currency": "EUR",
            }
            for n, amount in enumerate(amounts)
        ],
        "order_adjustments": [],
    }


def charge(**fields) -> dict:
    """A charge.refunded charge of the Stripe checkout (12990 cents)."""
    return {
        "id": "ch_3QxA1b2C3d4E5f6g7H8i9J0k",
        "object": "charge",
        "amount": 12990,
        "amount_refunded": 12990,
        "refunded": True,
        "currency": "eur",
        "payment_intent": SESSION["payment_intent"],
        "metadata": {},
        **fields,
    }


# --- reading the outcome -----------------------------------------------------------------------


def survey_of(session, order_id: str) -> Survey:
    purchase = session.scalars(select(Purchase).where(Purchase.order_id == order_id)).one()
    return session.scalars(select(Survey).where(Survey.purchase_id == purchase.id)).one()


def survey_email(session, survey: Survey) -> OutboxMessage:
    return session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.survey_id == survey.id, OutboxMessage.template == "survey"
        )
    ).one()


def refund_touches(session) -> list[Touchpoint]:
    return list(session.scalars(select(Touchpoint).where(Touchpoint.kind == "refund")))


def state(session) -> dict:
    """Everything a cancellation may change, to show that something changed nothing."""
    return {
        "surveys": sorted(
            (s.id, s.status, s.status_reason) for s in session.scalars(select(Survey))
        ),
        "outbox": sorted(
            (m.id, m.status, m.last_error) for m in session.scalars(select(OutboxMessage))
        ),
        "purchases": sorted(
            (p.id, p.cancelled_at, p.cancellation_reason, p.refunded_at)
            for p in session.scalars(select(Purchase))
        ),
        "touches": session.scalar(select(func.count(Touchpoint.id))),
        "suppressed": [c.suppressed_at for c in session.scalars(select(Customer))],
    }


@pytest.fixture
def shopify_order(client, providers, session, clock):
    """Ana's Shopify order, recorded from orders/paid, its survey scheduled."""
    assert to_shopify(client, ORDER, "orders/paid").status_code == 201
    survey = survey_of(session, SHOPIFY_ORDER_ID)
    assert survey.status == "scheduled"
    return survey


@pytest.fixture
def stripe_order(client, providers, session, clock):
    """Ana's Stripe checkout, recorded from checkout.session.completed, survey scheduled."""
    assert to_stripe(client, "checkout.session.completed", SESSION).status_code == 201
    survey = survey_of(session, SESSION["id"])
    assert survey.status == "scheduled"
    return survey


# --- Shopify -------------------------------------------------------------------------------------


def test_a_cancelled_shopify_order_cancels_its_survey_without_suppressing_the_address(
    client, session, shopify_order, clock
):
    cancelled = {**ORDER, "cancelled_at": "2026-11-23T04:30:00-05:00", "cancel_reason": "customer"}

    response = to_shopify(client, cancelled, "orders/cancelled")

    assert response.status_code == 200
    assert response.get_json()["survey"] == {
        "id": shopify_order.id,
        "status": "cancelled",
        "send_at": "2026-11-23T09:00:00Z",
        "reason": "The order was cancelled in Shopify (customer).",
    }
    session.refresh(shopify_order)
    assert shopify_order.status == "cancelled"
    assert survey_email(session, shopify_order).status == "cancelled"
    assert shopify_order.customer.suppressed_at is None
    assert refund_touches(session) == []  # a cancellation is not a refund


def test_a_full_shopify_refund_cancels_the_survey_and_is_a_negative_touch_with_its_reason(
    client, session, shopify_order
):
    response = to_shopify(client, refund(), "refunds/create")

    assert response.status_code == 200
    assert response.get_json()["survey"]["status"] == "cancelled"
    session.refresh(shopify_order)
    assert (
        shopify_order.status_reason == "the order was refunded in full in Shopify (Arrived broken)"
    )
    (touch,) = refund_touches(session)
    assert (touch.polarity, touch.customer_id) == ("negative", shopify_order.customer_id)
    assert "Arrived broken" in touch.note
    assert shopify_order.customer.suppressed_at is None


def test_a_shopify_refund_of_every_item_but_not_the_shipping_is_full(
    client, session, shopify_order
):
    response = to_shopify(client, refund(amounts=("139.80",), quantities=(1, 2)), "refunds/create")

    assert response.status_code == 200
    session.refresh(shopify_order)
    assert shopify_order.status == "cancelled"


@pytest.mark.parametrize(
    "partial",
    [
        refund(amounts=("29.90",), quantities=(0, 2)),  # the keycap pullers only
        refund(amounts=("149.80",), quantities=(), status="failure"),  # the money did not go
    ],
    ids=["some-items", "failed-transaction"],
)
def test_a_partial_shopify_refund_changes_nothing(client, session, shopify_order, partial):
    before = state(session)

    response = to_shopify(client, partial, "refunds/create")

    assert response.status_code == 200
    assert "only in part" in response.get_json()["ignored"]
    assert state(session) == before


def test_an_unsigned_shopify_cancellation_is_refused_and_changes_nothing(
    client, session, shopify_order
):
    before = state(session)

    response = to_shopify(client, ORDER, "orders/cancelled", signed=False)

    assert response.status_code == 401
    assert state(session) == before


def test_a_repeated_shopify_refund_changes_nothing_more(client, session, shopify_order, clock):
    first = to_shopify(client, refund(), "refunds/create", webhook_id="wh-1")
    after_first = state(session)
    clock.advance(minutes=5)

    again = to_shopify(client, refund(), "refunds/create", webhook_id="wh-1")
    another_delivery = to_shopify(client, refund(), "refunds/create", webhook_id="wh-2")
    then_cancelled = to_shopify(client, ORDER, "orders/cancelled")

    assert first.status_code == again.status_code == 200
    assert again.get_json() == {"ignored": "this webhook was received before"}
    assert another_delivery.get_json() == first.get_json()
    assert then_cancelled.get_json() == first.get_json()
    assert state(session) == after_first
    assert len(refund_touches(session)) == 1


def test_a_refund_after_the_cancellation_is_still_recorded_as_a_negative_touch_once(
    client, session, shopify_order
):
    to_shopify(client, ORDER, "orders/cancelled")

    to_shopify(client, refund(), "refunds/create")
    to_shopify(client, refund(), "refunds/create")

    session.refresh(shopify_order)
    assert shopify_order.status_reason == "the order was cancelled in Shopify (no reason given)"
    assert len(refund_touches(session)) == 1


def test_a_shopify_order_we_never_recorded_is_answered_200_and_ignored(
    client, providers, session, clock
):
    before = state(session)

    response = to_shopify(client, refund(), "refunds/create")

    assert response.status_code == 200
    assert response.get_json() == {"ignored": f"no purchase has the order id {SHOPIFY_ORDER_ID}"}
    assert state(session) == before


# --- Stripe --------------------------------------------------------------------------------------


def test_a_fully_refunded_stripe_charge_cancels_the_survey_of_its_checkout(
    client, session, stripe_order
):
    response = to_stripe(client, "charge.refunded", charge())

    assert response.status_code == 200
    assert response.get_json()["survey"]["reason"] == "The order was refunded in full in Stripe."
    session.refresh(stripe_order)
    assert stripe_order.status == "cancelled"
    assert survey_email(session, stripe_order).status == "cancelled"
    (touch,) = refund_touches(session)
    assert touch.polarity == "negative"
    assert stripe_order.customer.suppressed_at is None


def test_a_refunded_charge_finds_its_order_by_the_order_id_on_the_payment(
    client, providers, session, clock
):
    to_stripe(client, "checkout.session.completed", {**SESSION, "metadata": {"order_id": "A-7"}})

    response = to_stripe(
        client,
        "charge.refunded",
        charge(payment_intent="pi_elsewhere", metadata={"order_id": "A-7"}),
    )

    assert response.status_code == 200
    assert survey_of(session, "A-7").status == "cancelled"


def test_a_partially_refunded_stripe_charge_changes_nothing(client, session, stripe_order):
    before = state(session)

    response = to_stripe(client, "charge.refunded", charge(amount_refunded=2000, refunded=False))

    assert response.status_code == 200
    assert "only in part" in response.get_json()["ignored"]
    assert state(session) == before


def test_an_unsigned_stripe_refund_is_refused_and_changes_nothing(client, session, stripe_order):
    before = state(session)

    response = to_stripe(client, "charge.refunded", charge(), signed=False)

    assert response.status_code == 401
    assert state(session) == before


def test_a_repeated_stripe_refund_changes_nothing_more(client, session, stripe_order):
    first = to_stripe(client, "charge.refunded", charge(), event_id="evt_refund_1")
    after_first = state(session)

    again = to_stripe(client, "charge.refunded", charge(), event_id="evt_refund_1")
    another_event = to_stripe(client, "charge.refunded", charge(), event_id="evt_refund_2")

    assert again.get_json() == {"ignored": "this webhook was received before"}
    assert another_event.get_json() == first.get_json()
    assert state(session) == after_first


def test_an_expired_checkout_session_cancels_the_survey_of_its_purchase(
    client, session, stripe_order
):
    response = to_stripe(client, "checkout.session.expired", {**SESSION, "status": "expired"})

    assert response.status_code == 200
    session.refresh(stripe_order)
    assert (stripe_order.status, stripe_order.status_reason) == (
        "cancelled",
        "the Stripe checkout session expired",
    )
    assert refund_touches(session) == []


def test_stripe_events_about_payments_we_never_recorded_are_answered_200_and_ignored(
    client, providers, session, clock
):
    before = state(session)

    refunded = to_stripe(client, "charge.refunded", charge())
    expired = to_stripe(client, "checkout.session.expired", SESSION)

    assert refunded.status_code == expired.status_code == 200
    assert "ignored" in refunded.get_json() and "ignored" in expired.get_json()
    assert state(session) == before


# --- the API -------------------------------------------------------------------------------------


def post_purchase(client, auth, order_id: str = "A-1001") -> dict:
    response = client.post(
        "/api/v1/purchases",
        json={
            "order_id": order_id,
            "customer": {"email": "ana@example.com", "name": "Ana Diaz"},
            "purchased_at": "2026-11-23T08:55:00Z",
            "total": "129.90",
            "currency": "EUR",
        },
        headers=auth,
    )
    assert response.status_code == 201
    return response.get_json()


def cancel(client, auth, order_id: str, body) -> object:
    return client.post(f"/api/v1/purchases/{order_id}/cancel", json=body, headers=auth)


def test_the_api_cancels_a_scheduled_survey_and_its_email_with_the_reason(
    client, auth, session, clock, runner
):
    receipt = post_purchase(client, auth)

    response = cancel(client, auth, "A-1001", {"reason": "Returned: wrong size"})

    assert response.status_code == 200
    assert response.get_json() == {
        **receipt,
        "survey": {
            **receipt["survey"],
            "status": "cancelled",
            "reason": "The order was cancelled: Returned: wrong size.",
        },
    }
    survey = survey_of(session, "A-1001")
    assert survey_email(session, survey).status == "cancelled"
    assert refund_touches(session) == []
    # The worker sends nothing for it, and the next purchase is surveyed as usual (a
    # cancelled survey neither suppresses the address nor counts towards the throttle).
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert survey_of(session, "A-1001").status == "cancelled"
    assert survey_email(session, survey).status == "cancelled"
    later = post_purchase(client, auth, "A-1002")
    assert later["survey"]["status"] == "scheduled"


def test_an_api_refund_is_a_negative_touch_once_however_often_it_is_posted(
    client, auth, session, clock
):
    post_purchase(client, auth)

    first = cancel(client, auth, "A-1001", {"reason": "Damaged", "refunded": True})
    after_first = state(session)
    again = cancel(client, auth, "A-1001", {"reason": "Damaged", "refunded": True})

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert first.get_json()["survey"]["reason"] == "The order was refunded: Damaged."
    assert state(session) == after_first
    (touch,) = refund_touches(session)
    assert (touch.polarity, touch.note) == ("negative", "the order was refunded: Damaged")


def test_an_answered_survey_is_kept_when_its_order_is_refunded(client, auth, session, clock):
    customer = make_customer(session, email="ana@example.com")
    purchase = make_purchase(session, customer, order_id="A-9", purchased_at=clock.now())
    survey, _token = make_sent_survey(session, customer, purchase=purchase, sent_at=clock.now())
    survey.status, survey.answered_at = "answered", clock.now()
    session.commit()

    response = cancel(client, auth, "A-9", {"reason": "Changed their mind", "refunded": True})

    assert response.status_code == 200
    assert response.get_json()["survey"]["status"] == "answered"
    session.refresh(survey)
    assert (survey.status, survey.status_reason) == ("answered", None)


def test_a_sent_survey_stays_answerable_but_gets_no_reminder_once_refunded(
    client, auth, session, clock
):
    customer = make_customer(session, email="ana@example.com")
    purchase = make_purchase(session, customer, order_id="A-10", purchased_at=clock.now())
    survey, _token = make_sent_survey(
        session, customer, purchase=purchase, sent_at=clock.now() - timedelta(days=4)
    )
    session.commit()

    cancel(client, auth, "A-10", {"reason": "Refunded at the counter", "refunded": True})

    session.refresh(survey)
    assert survey.status == "sent"
    assert queue_reminders(session, clock.now()) == 0
    assert survey.reminder_sent_at is None


def test_a_reminder_waiting_in_the_outbox_is_cancelled_with_the_order(client, auth, session, clock):
    customer = make_customer(session, email="ana@example.com")
    purchase = make_purchase(session, customer, order_id="A-11", purchased_at=clock.now())
    survey, _token = make_sent_survey(
        session, customer, purchase=purchase, sent_at=clock.now() - timedelta(days=4)
    )
    assert queue_reminders(session, clock.now()) == 1
    session.commit()

    cancel(client, auth, "A-11", {"reason": "Cancelled by phone"})

    reminder = session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "reminder")
    ).one()
    assert (reminder.status, reminder.last_error) == (
        "cancelled",
        "the order was cancelled: Cancelled by phone",
    )


def test_cancelling_an_unknown_order_is_a_404_problem(client, auth, session, clock):
    response = cancel(client, auth, "NOPE-1", {"reason": "Returned"})

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["detail"] == "No purchase has the order id 'NOPE-1'."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": 42}, "reason"),
        ({"reason": "x" * 251}, "reason"),
        ({"reason": "two\nlines"}, "reason"),
        ({"reason": "Returned", "refunded": "yes"}, "refunded"),
    ],
)
def test_bad_cancel_input_is_a_422_naming_the_field_and_changes_nothing(
    client, auth, session, clock, body, field
):
    post_purchase(client, auth)
    before = state(session)

    response = cancel(client, auth, "A-1001", body)

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]
    assert state(session) == before


def test_cancelling_needs_a_key_that_may_write(client, session, clock):
    _key, raw = make_api_key(session, scope="read")
    session.commit()

    anonymous = cancel(client, {}, "A-1001", {"reason": "Returned"})
    read_only = cancel(client, {"Authorization": f"Bearer {raw}"}, "A-1001", {"reason": "x"})

    assert (anonymous.status_code, read_only.status_code) == (401, 403)


def test_an_order_id_with_a_slash_is_found(client, auth, session, clock):
    post_purchase(client, auth, "2026/0042")

    response = cancel(client, auth, "2026/0042", {"reason": "Returned"})

    assert response.status_code == 200
    assert response.get_json()["order_id"] == "2026/0042"


def test_a_stripe_purchase_keeps_the_payment_its_refund_will_name(session, stripe_order):
    purchase = session.get(Purchase, stripe_order.purchase_id)

    assert (purchase.order_id, purchase.payment_reference) == (
        SESSION["id"],
        SESSION["payment_intent"],
    )
