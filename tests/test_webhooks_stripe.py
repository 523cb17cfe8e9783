"""Stripe's Checkout events at /webhooks/stripe.

Each test signs its event as Stripe does: `Stripe-Signature: t=<unix>,v1=<hex>`,
the HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint's signing secret.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from surveys.db import db
from surveys.models import (
    Customer,
    OutboxMessage,
    Purchase,
    PurchaseItem,
    ReceivedWebhook,
    Survey,
)
from tests.conftest import TEST_START
from tests.factories import make_customer, make_purchase

URL = "/webhooks/stripe"
SECRET = "whsec_5f1b0a8e2c4d6f8a0b2c4e6f8a1c3e5b"

SESSION = {
    "id": "cs_live_a1Yz8bXkQp3RmT5vW7nC9dF2gH4jK6lM8nP0qR2sT4uV6wX8yZ",
    "object": "checkout.session",
    "amount_subtotal": 12990,
    "amount_total": 12990,
    "client_reference_id": None,
    "created": int((TEST_START - timedelta(minutes=6)).timestamp()),
    "currency": "eur",
    "customer": "cus_QxA1b2C3d4E5f6",
    "customer_details": {
        "address": {
            "city": "Madrid",
            "country": "ES",
            "line1": "Calle Mayor 1",
            "postal_code": "28013",
        },
        "email": "Ana.Diaz@example.com",
        "name": "Ana Díaz",
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    },
    "customer_email": None,
    "expires_at": int((TEST_START + timedelta(hours=23)).timestamp()),
    "livemode": True,
    "metadata": {},
    "mode": "payment",
    "payment_intent": "pi_3QxA1b2C3d4E5f6g7H8i9J0k",
    "payment_status": "paid",
    "status": "complete",
    "success_url": "https://keys-and-co.example/thanks",
    "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 2254},
}


def event(
    session: dict = SESSION,
    *,
    event_id: str = "evt_1QxA1b2C3d4E5f6g7H8i9J0k",
    type_: str = "checkout.session.completed",
    **session_fields,
) -> dict:
    """A snapshot event about the session, as Stripe posts it."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2026-10-28.acacia",
        "created": int((TEST_START - timedelta(minutes=5)).timestamp()),
        "data": {"object": {**session, **session_fields}},
        "livemode": True,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


@pytest.fixture
def stripe(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = SECRET
    return app


def signature(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed(
    payload: dict, *, at: datetime = TEST_START, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery, signed as Stripe signs it."""
    body = json.dumps(payload, indent=2).encode()
    timestamp = int(at.timestamp())
    return body, {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": f"t={timestamp},v1={signature(body, timestamp, secret)}",
    }


def deliver(client, payload: dict, **options):
    body, headers = signed(payload, **options)
    return client.post(URL, data=body, headers=headers)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def counts(session) -> dict[str, int]:
    return {
        model.__name__: count(session, model)
        for model in (Customer, Purchase, Survey, OutboxMessage, ReceivedWebhook)
    }


NOTHING = {"Customer": 0, "Purchase": 0, "Survey": 0, "OutboxMessage": 0, "ReceivedWebhook": 0}
ONE_ORDER = {"Customer": 1, "Purchase": 1, "Survey": 1, "OutboxMessage": 1, "ReceivedWebhook": 1}


def test_paid_checkout_records_one_purchase_and_schedules_its_survey(
    client, stripe, session, clock
):
    response = deliver(client, event())

    assert response.status_code == 201
    purchase = session.scalars(select(Purchase)).one()
    survey = session.scalars(select(Survey)).one()
    assert response.get_json() == {
        "id": purchase.id,
        "order_id": SESSION["id"],
        "customer_id": purchase.customer_id,
        "survey": {
            "id": survey.id,
            "status": "scheduled",
            "send_at": "2026-11-23T09:00:00Z",
            "reason": None,
        },
    }
    assert (purchase.source, purchase.total, purchase.currency) == (
        "stripe",
        Decimal("129.90"),
        "EUR",
    )
    assert purchase.purchased_at == TEST_START - timedelta(minutes=6)
    assert purchase.items == []  # not in the event; see surveys/webhooks/stripe.py
    customer = session.get(Customer, purchase.customer_id)
    assert (customer.email, customer.name, customer.external_id) == (
        "ana.diaz@example.com",
        "Ana Díaz",
        "cus_QxA1b2C3d4E5f6",
    )
    assert session.scalars(select(OutboxMessage)).one().survey_id == survey.id
    received = session.scalars(select(ReceivedWebhook)).one()
    assert (received.source, received.external_id) == ("stripe", "evt_1QxA1b2C3d4E5f6g7H8i9J0k")


def test_metadata_gives_the_shops_order_id_and_the_item(client, stripe, session, clock):
    metadata = {
        "order_id": "A-2001",
        "item_name": "Mechanical keyboard",
        "sku": "KB-1",
        "category": "hardware",
        "campaign": "winter",
    }

    response = deliver(client, event(metadata=metadata))

    assert response.status_code == 201
    purchase = session.scalars(select(Purchase)).one()
    assert purchase.order_id == "A-2001"
    item = session.scalars(select(PurchaseItem)).one()
    assert (item.name, item.sku, item.category, item.quantity, item.unit_price) == (
        "Mechanical keyboard",
        "KB-1",
        "hardware",
        1,
        None,
    )


def test_order_already_posted_through_the_api_is_not_recorded_again(client, stripe, session, clock):
    known = make_purchase(
        session, make_customer(session, email="ana.diaz@example.com"), order_id="A-2001"
    )
    session.commit()

    response = deliver(client, event(metadata={"order_id": "A-2001"}))

    assert response.status_code == 200
    assert response.get_json()["id"] == known.id
    assert (count(session, Purchase), count(session, Survey)) == (1, 0)


@pytest.mark.parametrize(
    ("currency", "amount_total", "total"),
    [
        ("eur", 12990, Decimal("129.90")),
        ("jpy", 5000, Decimal("5000.00")),  # zero-decimal: the amount is in yen
        ("kwd", 12340, Decimal("12.34")),  # three-decimal: in fils
        ("isk", 50000, Decimal("500.00")),  # Stripe still counts króna in hundredths
    ],
)
def test_amount_is_read_in_the_currencys_smallest_unit(
    client, stripe, session, clock, currency, amount_total, total
):
    response = deliver(client, event(currency=currency, amount_total=amount_total))

    assert response.status_code == 201
    purchase = session.scalars(select(Purchase)).one()
    assert (purchase.total, purchase.currency) == (total, currency.upper())


def test_repeated_event_id_creates_nothing_new(client, stripe, session, clock):
    first = deliver(client, event())
    clock.advance(minutes=10)

    again = deliver(client, event(), at=clock.now())  # Stripe's retry, signed anew

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert counts(session) == ONE_ORDER


def test_same_session_in_a_new_event_creates_nothing_new(client, stripe, session, clock):
    first = deliver(client, event())

    again = deliver(client, event(event_id="evt_1QxA1b2C3d4E5f6g7H8iResent"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert counts(session) == {**ONE_ORDER, "ReceivedWebhook": 2}


def test_delayed_payment_is_recorded_when_it_succeeds(client, stripe, session, clock):
    completed = deliver(client, event(payment_status="unpaid"))
    assert completed.status_code == 200
    assert completed.get_json() == {
        "ignored": "the checkout session is not paid (payment_status 'unpaid')"
    }
    assert counts(session) == NOTHING

    succeeded = deliver(
        client,
        event(
            event_id="evt_1QxA1b2C3d4E5f6g7H8iAsync",
            type_="checkout.session.async_payment_succeeded",
        ),
    )

    assert succeeded.status_code == 201
    assert counts(session) == ONE_ORDER


@pytest.mark.parametrize(
    "type_",
    [
        "checkout.session.async_payment_failed",
        "payment_intent.succeeded",
        "charge.dispute.created",
    ],
)
def test_other_event_types_answer_200_and_record_nothing(client, stripe, session, clock, type_):
    response = deliver(client, event(type_=type_))

    assert response.status_code == 200
    assert response.get_json() == {"ignored": f"{type_} events are not recorded"}
    assert counts(session) == NOTHING


def test_free_checkout_answers_200_and_records_nothing(client, stripe, session, clock):
    response = deliver(client, event(payment_status="no_payment_required", amount_total=0))

    assert response.status_code == 200
    assert counts(session) == NOTHING


def _tampered(body: bytes, headers: dict) -> tuple[bytes, dict]:
    return body.replace(b"12990", b"100"), headers


def _signed_with_another_secret(body: bytes, headers: dict) -> tuple[bytes, dict]:
    t = int(TEST_START.timestamp())
    return body, {**headers, "Stripe-Signature": f"t={t},v1={signature(body, t, 'whsec_x')}"}


def _unsigned(body: bytes, headers: dict) -> tuple[bytes, dict]:
    return body, {k: v for k, v in headers.items() if k != "Stripe-Signature"}


def _only_a_v0_signature(body: bytes, headers: dict) -> tuple[bytes, dict]:
    return body, {**headers, "Stripe-Signature": headers["Stripe-Signature"].replace("v1=", "v0=")}


def _timestamp_changed(body: bytes, headers: dict) -> tuple[bytes, dict]:
    # The signature covers the timestamp: moving it (to dodge the tolerance) breaks it.
    t = int(TEST_START.timestamp())
    return body, {
        **headers,
        "Stripe-Signature": headers["Stripe-Signature"].replace(f"t={t}", f"t={t + 1}"),
    }


def _no_timestamp(body: bytes, headers: dict) -> tuple[bytes, dict]:
    v1 = headers["Stripe-Signature"].split(",")[1]
    return body, {**headers, "Stripe-Signature": v1}


@pytest.mark.parametrize(
    "forge",
    [
        _tampered,
        _signed_with_another_secret,
        _unsigned,
        _only_a_v0_signature,
        _timestamp_changed,
        _no_timestamp,
    ],
)
def test_bad_or_missing_signature_answers_401_and_records_nothing(
    client, stripe, session, clock, forge
):
    body, headers = forge(*signed(event()))

    response = client.post(URL, data=body, headers=headers)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] in ("Invalid signature", "Unsigned request")
    assert counts(session) == NOTHING


@pytest.mark.parametrize("seconds_away", [-301, 301, -3600])
def test_timestamp_more_than_five_minutes_away_answers_401(
    client, stripe, session, clock, seconds_away
):
    response = deliver(client, event(), at=clock.now() + timedelta(seconds=seconds_away))

    assert response.status_code == 401
    assert response.get_json()["title"] == "Stale request"
    assert counts(session) == NOTHING


def test_timestamp_within_five_minutes_is_accepted(client, stripe, session, clock):
    response = deliver(client, event(), at=clock.now() - timedelta(seconds=299))

    assert response.status_code == 201
    assert counts(session) == ONE_ORDER


def test_any_matching_v1_signature_is_enough_while_the_secret_is_rolled(
    client, stripe, session, clock
):
    body = json.dumps(event()).encode()
    t = int(TEST_START.timestamp())
    header = (
        f"t={t},v1={signature(body, t, 'whsec_the_new_one')},"
        f"v1={signature(body, t)},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816"
    )

    response = client.post(URL, data=body, headers={"Stripe-Signature": header})

    assert response.status_code == 201
    assert counts(session) == ONE_ORDER


def test_endpoint_answers_404_while_the_secret_is_unset(client, app, session, clock):
    app.config["STRIPE_WEBHOOK_SECRET"] = None

    response = deliver(client, event())

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert counts(session) == NOTHING


def test_malformed_session_answers_422_naming_each_field_and_records_nothing(
    client, stripe, session, clock
):
    payload = event(
        amount_total="129.90",
        created="yesterday",
        currency="euro",
        metadata={"order_id": "A" * 129},
    )

    response = deliver(client, payload)

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {
        "data.object.amount_total",
        "data.object.created",
        "data.object.currency",
        "data.object.metadata.order_id",
    }
    assert counts(session) == NOTHING


def test_event_without_id_or_session_answers_422(client, stripe, session, clock):
    no_id = event()
    del no_id["id"]
    no_session = copy.deepcopy(event())
    no_session["data"] = {}

    responses = [deliver(client, no_id), deliver(client, no_session)]

    assert [r.status_code for r in responses] == [422, 422]
    assert [set(r.get_json()["errors"]) for r in responses] == [{"id"}, {"data.object"}]
    assert counts(session) == NOTHING


def test_session_without_an_email_address_answers_200_and_records_nothing(
    client, stripe, session, clock
):
    details = {**SESSION["customer_details"], "email": None}

    response = deliver(client, event(customer_details=details))

    assert response.status_code == 200
    assert "no email address" in response.get_json()["ignored"]
    assert counts(session) == NOTHING


# --- concurrency: real commits, one connection per delivery ---------------------------------


def test_same_event_arriving_twice_at_once_records_one_purchase(committed_app):
    committed_app.config["STRIPE_WEBHOOK_SECRET"] = SECRET
    now = datetime.now(UTC)
    payload = event(created=int(now.timestamp()) - 60)
    deliveries = [signed(payload, at=now) for _ in range(2)]
    barrier = threading.Barrier(len(deliveries))
    statuses: list[int | None] = [None] * len(deliveries)
    failures: list[BaseException] = []

    def run(index: int, body: bytes, headers: dict) -> None:
        try:
            client = committed_app.test_client()
            barrier.wait(timeout=10)
            statuses[index] = client.post(URL, data=body, headers=headers).status_code
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, *d)) for i, d in enumerate(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert sorted(statuses) == [200, 201]
    with committed_app.app_context():
        assert counts(db.session()) == ONE_ORDER
