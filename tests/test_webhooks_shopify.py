"""Shopify's orders/paid webhook at /webhooks/shopify.

Each test signs its delivery as Shopify does: the base64 HMAC-SHA256 of the
raw body, keyed with the shop's webhook secret, in X-Shopify-Hmac-Sha256.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import uuid
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
from tests.factories import make_customer

URL = "/webhooks/shopify"
SECRET = "7f3c9a1e5b2d4f6a8c0e1b3d5f7a9c2e"

# An orders/paid order as Shopify sends it (API 2026-10), trimmed of the
# fields nobody reads but keeping the shape and types of those we do.
ORDER = {
    "id": 5940139491234,
    "admin_graphql_api_id": "gid://shopify/Order/5940139491234",
    "name": "#1001",
    "order_number": 1001,
    "email": "Ana.Diaz@Example.com",
    "contact_email": "Ana.Diaz@Example.com",
    "phone": None,
    "test": False,
    "created_at": "2026-11-23T03:54:12-05:00",
    "processed_at": "2026-11-23T03:54:10-05:00",
    "updated_at": "2026-11-23T03:55:02-05:00",
    "financial_status": "paid",
    "fulfillment_status": None,
    "currency": "EUR",
    "presentment_currency": "EUR",
    "subtotal_price": "149.80",
    "total_discounts": "0.00",
    "total_tax": "26.00",
    "total_price": "149.80",
    "total_price_set": {
        "shop_money": {"amount": "149.80", "currency_code": "EUR"},
        "presentment_money": {"amount": "149.80", "currency_code": "EUR"},
    },
    "customer_locale": "es",
    "customer": {
        "id": 7741425221763,
        "email": "ana.diaz@example.com",
        "first_name": "Ana",
        "last_name": "Díaz",
        "state": "enabled",
        "verified_email": True,
        "currency": "EUR",
        "created_at": "2025-02-01T10:00:00-05:00",
        "default_address": {"city": "Madrid", "country_code": "ES"},
    },
    "billing_address": {"first_name": "Ana", "last_name": "Díaz", "city": "Madrid"},
    "line_items": [
        {
            "id": 14497615544451,
            "admin_graphql_api_id": "gid://shopify/LineItem/14497615544451",
            "product_id": 8469201158275,
            "variant_id": 44858553761923,
            "sku": "KB-1",
            "title": "Mechanical keyboard",
            "variant_title": "Black",
            "name": "Mechanical keyboard - Black",
            "vendor": "Keys & Co",
            "quantity": 1,
            "current_quantity": 1,
            "price": "129.90",
            "price_set": {"shop_money": {"amount": "129.90", "currency_code": "EUR"}},
            "gift_card": False,
            "requires_shipping": True,
            "tax_lines": [{"title": "IVA", "rate": 0.21, "price": "22.54"}],
            "discount_allocations": [],
            "properties": [],
        },
        {
            "id": 14497615577219,
            "product_id": 8469201191043,
            "variant_id": 44858553794691,
            "sku": "",
            "title": "Keycap puller",
            "variant_title": None,
            "name": "Keycap puller",
            "vendor": "Keys & Co",
            "quantity": 2,
            "price": "9.95",
            "gift_card": False,
            "tax_lines": [],
            "discount_allocations": [],
            "properties": [],
        },
    ],
    "shipping_lines": [{"title": "Standard", "price": "0.00"}],
    "refunds": [],
}


@pytest.fixture
def shopify(app):
    app.config["SHOPIFY_WEBHOOK_SECRET"] = SECRET
    return app


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def delivery(
    order: dict, *, topic: str = "orders/paid", webhook_id: str | None = None, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery, signed as Shopify signs it."""
    body = json.dumps(order).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": "keys-and-co.myshopify.com",
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-23T08:55:02.123456Z",
    }


def deliver(client, order: dict = ORDER, **options):
    body, headers = delivery(order, **options)
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


def test_paid_order_records_one_purchase_and_schedules_its_survey(client, shopify, session, clock):
    response = deliver(client, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")

    assert response.status_code == 201
    purchase = session.scalars(select(Purchase)).one()
    survey = session.scalars(select(Survey)).one()
    assert response.get_json() == {
        "id": purchase.id,
        "order_id": "shopify:5940139491234",
        "customer_id": purchase.customer_id,
        "survey": {
            "id": survey.id,
            "status": "scheduled",
            "send_at": "2026-11-23T09:00:00Z",
            "reason": None,
        },
    }
    assert (purchase.source, purchase.total, purchase.currency) == (
        "shopify",
        Decimal("149.80"),
        "EUR",
    )
    assert purchase.purchased_at == datetime(2026, 11, 23, 8, 54, 10, tzinfo=UTC)
    items = session.scalars(select(PurchaseItem).order_by(PurchaseItem.id)).all()
    assert [(i.sku, i.name, i.category, i.quantity, i.unit_price) for i in items] == [
        ("KB-1", "Mechanical keyboard", None, 1, Decimal("129.90")),
        (None, "Keycap puller", None, 2, Decimal("9.95")),
    ]
    customer = session.get(Customer, purchase.customer_id)
    assert (customer.email, customer.name, customer.external_id) == (
        "ana.diaz@example.com",
        "Ana Díaz",
        "shopify:7741425221763",
    )
    assert (survey.kind, survey.purchase_id) == ("purchase", purchase.id)
    assert session.scalars(select(OutboxMessage)).one().survey_id == survey.id
    received = session.scalars(select(ReceivedWebhook)).one()
    assert (received.source, received.external_id, received.received_at) == (
        "shopify",
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        clock.now(),
    )


def test_repeated_webhook_id_creates_nothing_new(client, shopify, session, clock):
    first = deliver(client, webhook_id="b54557e4-retried")

    again = deliver(client, webhook_id="b54557e4-retried")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert counts(session) == ONE_ORDER


def test_same_order_under_a_new_webhook_id_creates_nothing_new(client, shopify, session, clock):
    first = deliver(client)

    again = deliver(client)  # a second subscription, or the order sent again by hand

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert counts(session) == {**ONE_ORDER, "ReceivedWebhook": 2}


def test_webhook_seen_before_records_nothing_even_for_another_order(
    client, shopify, session, clock
):
    # The webhook id is not signed; whatever arrives under a handled id is a replay.
    deliver(client, webhook_id="b54557e4-handled")
    other_order = {
        **ORDER,
        "id": 5940139499999,
        "email": "bo@example.com",
        "contact_email": None,
        "customer": None,
    }

    response = deliver(client, other_order, webhook_id="b54557e4-handled")

    assert response.status_code == 200
    assert response.get_json() == {"ignored": "this webhook was received before"}
    assert counts(session) == ONE_ORDER


def _tampered(body: bytes, headers: dict) -> tuple[bytes, dict]:
    return body.replace(b"149.80", b"1.00"), headers


def _signed_with_another_secret(body: bytes, headers: dict) -> tuple[bytes, dict]:
    return body, {**headers, "X-Shopify-Hmac-Sha256": sign(body, "someone-elses-secret")}


def _unsigned(body: bytes, headers: dict) -> tuple[bytes, dict]:
    return body, {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"}


def _hex_instead_of_base64(body: bytes, headers: dict) -> tuple[bytes, dict]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {**headers, "X-Shopify-Hmac-Sha256": digest}


def _not_base64(body: bytes, headers: dict) -> tuple[bytes, dict]:
    return body, {**headers, "X-Shopify-Hmac-Sha256": "not base64 at all!"}


@pytest.mark.parametrize(
    "forge",
    [_tampered, _signed_with_another_secret, _unsigned, _hex_instead_of_base64, _not_base64],
)
def test_bad_or_missing_signature_answers_401_and_records_nothing(
    client, shopify, session, clock, forge
):
    body, headers = forge(*delivery(ORDER))

    response = client.post(URL, data=body, headers=headers)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401
    assert counts(session) == NOTHING


def test_either_secret_is_accepted_while_one_is_rotated(client, app, session, clock):
    app.config["SHOPIFY_WEBHOOK_SECRET"] = f"new-secret-0001, {SECRET}"

    old = deliver(client, secret=SECRET)
    new = deliver(client, {**ORDER, "id": 5940139490002}, secret="new-secret-0001")
    wrong = deliver(client, {**ORDER, "id": 5940139490003}, secret="new-secret-0002")

    assert (old.status_code, new.status_code, wrong.status_code) == (201, 201, 401)
    assert count(session, Purchase) == 2


def test_endpoint_answers_404_while_the_secret_is_unset(client, app, session, clock):
    app.config["SHOPIFY_WEBHOOK_SECRET"] = None

    response = deliver(client)

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert counts(session) == NOTHING


@pytest.mark.parametrize("topic", ["orders/create", "orders/updated", "customers/update", ""])
def test_other_topics_answer_200_and_record_nothing(client, shopify, session, clock, topic):
    response = deliver(client, topic=topic)

    assert response.status_code == 200
    assert "not recorded" in response.get_json()["ignored"]
    assert counts(session) == NOTHING


def test_order_without_an_email_address_answers_200_and_records_nothing(
    client, shopify, session, clock
):
    # A point-of-sale order: nobody to write to, and a retry would not change that.
    pos_order = {
        **ORDER,
        "email": "",
        "contact_email": None,
        "customer": {**ORDER["customer"], "email": None},
    }

    response = deliver(client, pos_order)

    assert response.status_code == 200
    assert response.get_json() == {
        "ignored": "order shopify:5940139491234 has no email address we could write to"
    }
    assert counts(session) == NOTHING


def test_customer_email_is_used_when_the_order_address_is_unusable(client, shopify, session, clock):
    order = {**ORDER, "email": "ana.diaz@example", "contact_email": None}

    response = deliver(client, order)

    assert response.status_code == 201
    assert session.scalars(select(Customer.email)).one() == "ana.diaz@example.com"


def test_known_customer_gets_the_order_and_a_throttled_survey(client, shopify, session, clock):
    customer = make_customer(session, email="ana.diaz@example.com", name=None)
    session.commit()
    deliver(client, {**ORDER, "id": 5940139490001})

    response = deliver(client)

    assert response.status_code == 201
    assert response.get_json()["survey"]["status"] == "throttled"
    assert count(session, Customer) == 1
    session.refresh(customer)
    assert (customer.name, customer.external_id) == ("Ana Díaz", "shopify:7741425221763")


def test_malformed_order_answers_422_naming_each_field_and_records_nothing(
    client, shopify, session, clock
):
    order = copy.deepcopy(ORDER)
    del order["id"]
    order["total_price"] = "a lot"
    order["processed_at"] = "yesterday"
    order["line_items"][1]["quantity"] = "two"

    response = deliver(client, order)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == {
        "id",
        "total_price",
        "processed_at",
        "line_items.1.quantity",
    }
    assert counts(session) == NOTHING


def test_body_that_is_not_json_answers_400_and_records_nothing(client, shopify, session, clock):
    body = b"order=5940139491234"

    response = client.post(
        URL,
        data=body,
        headers={"X-Shopify-Topic": "orders/paid", "X-Shopify-Hmac-Sha256": sign(body)},
    )

    assert response.status_code == 400
    assert counts(session) == NOTHING


def test_order_larger_than_the_api_limit_is_still_recorded(client, shopify, session, clock):
    order = copy.deepcopy(ORDER)
    line = order["line_items"][0]
    order["line_items"] = [
        {
            **line,
            "id": n,
            "sku": f"PART-{n}",
            "title": f"Spare part {n}",
            "properties": [{"name": "Engraving", "value": "x" * 1500}],
        }
        for n in range(900)
    ]
    body, headers = delivery(order)
    assert len(body) > 1024 * 1024

    response = client.post(URL, data=body, headers=headers)

    assert response.status_code == 201
    assert count(session, PurchaseItem) == 900


# --- concurrency: real commits, one connection per delivery ---------------------------------


def _deliver_at_once(app, deliveries: list[tuple[bytes, dict]]) -> list[int]:
    """Post each delivery from its own thread and client, all released at the same moment."""
    barrier = threading.Barrier(len(deliveries))
    statuses: list[int | None] = [None] * len(deliveries)
    failures: list[BaseException] = []

    def run(index: int, body: bytes, headers: dict) -> None:
        try:
            client = app.test_client()
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
    return statuses


@pytest.mark.parametrize("same_webhook_id", [True, False])
def test_duplicate_deliveries_arriving_at_once_record_one_purchase(committed_app, same_webhook_id):
    committed_app.config["SHOPIFY_WEBHOOK_SECRET"] = SECRET
    order = {**ORDER, "processed_at": datetime.now(UTC).isoformat()}
    deliveries = [
        delivery(order, webhook_id="b54557e4-twice" if same_webhook_id else None) for _ in range(2)
    ]

    statuses = _deliver_at_once(committed_app, deliveries)

    assert sorted(statuses) == [200, 201]
    with committed_app.app_context():
        assert counts(db.session()) == {**ONE_ORDER, "ReceivedWebhook": 1 if same_webhook_id else 2}


def test_an_order_the_service_refuses_answers_422_naming_the_field_and_records_nothing(
    client, shopify, session, clock
):
    # Well-formed, but paid two days from now: record_purchase refuses it (PurchaseRejected).
    order = {**ORDER, "processed_at": (clock.now() + timedelta(days=2)).isoformat()}

    response = deliver(client, order)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == {
        "type": "https://hearttoheart.dev/problems/validation-error",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "Some fields are not valid: purchased_at.",
        "errors": {"purchased_at": ["is in the future"]},
    }
    assert counts(session) == NOTHING
