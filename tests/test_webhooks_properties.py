"""Any correctly signed body to a webhook gets a 2xx or a 4xx, never a 5xx.

Hypothesis builds the bodies: a real Shopify order, Stripe event or SendGrid
batch with a few fields replaced by hostile values (or any JSON at all), each
signed with the configured secret so that the parser, not the signature check,
meets it. A refused delivery must leave every row as it was.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_customer
from tests.inbound import (
    HOSTILE,
    any_json,
    doors,
    json_body,
    row_counts,
    weighted,
    with_changes,
)
from tests.test_sendgrid_events import SendGridSigner
from tests.test_webhooks_shopify import ORDER, sign
from tests.test_webhooks_stripe import SESSION, signature
from tests.test_webhooks_stripe import event as stripe_event

__all__ = ["doors"]  # a fixture

SHOPIFY_FIELDS = [
    (key,)
    for key in [
        "id",
        "email",
        "contact_email",
        "customer",
        "processed_at",
        "created_at",
        "total_price",
        "currency",
        "line_items",
        "note",
    ]
]
SHOPIFY_FIELDS += [("customer", key) for key in ["id", "email", "first_name", "last_name"]]
SHOPIFY_FIELDS += [
    ("line_items", line, key)
    for line in (0, 1)
    for key in ["sku", "title", "name", "quantity", "price"]
]
STRIPE_EVENT = stripe_event()
STRIPE_FIELDS = [("id",), ("type",), ("data",), ("data", "object")]
STRIPE_FIELDS += [("data", "object", key) for key in SESSION]
STRIPE_FIELDS += [
    ("data", "object", "metadata", key) for key in ["order_id", "item_name", "sku", "category"]
]
STRIPE_FIELDS += [("data", "object", "customer_details", key) for key in ["email", "name"]]
SENDGRID_BATCH = [
    {
        "email": "ana@example.com",
        "timestamp": 1795424000,
        "event": "bounce",
        "sg_event_id": "ev-bounce",
        "reason": "550 5.1.1 no such user",
        "type": "bounce",
    },
    {
        "email": "ana@example.com",
        "timestamp": 1795424100,
        "event": "open",
        "sg_event_id": "ev-open",
        "survey_id": "1",
        "message_id": "1",
        "category": ["survey"],
    },
]
SENDGRID_FIELDS = [(0,), (1,)]
SENDGRID_FIELDS += [
    (index, key)
    for index in (0, 1)
    for key in [*SENDGRID_BATCH[index], "custom", "asm_group_id", "response"]
]
# A header travels as Latin-1: any of its characters but a line break may arrive, a NUL too.
header_text = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=40)


def _fresh(document: object, base: dict, path: tuple, value: object) -> object:
    """The document with a new value at `path` unless a change already made it differ there."""
    parent, key = document, path[-1]
    for step in path[:-1]:
        parent = parent.get(step) if isinstance(parent, dict) else None
    unchanged = isinstance(parent, dict) and parent.get(key) == _at(base, path)
    if unchanged:
        parent[key] = value
    return document


def _at(document: object, path: tuple) -> object:
    for step in path:
        document = document[step]
    return document


# Each order, event and batch new (unless its id was the field changed), so it is read in full;
# a real document with a few fields changed three times as often as any JSON at all.
changed_orders = st.builds(
    lambda order, number: _fresh(order, ORDER, ("id",), number),
    with_changes(ORDER, SHOPIFY_FIELDS),
    st.integers(1, 2**53),
)
shopify_orders = weighted((3, changed_orders), (1, any_json))

changed_events = st.builds(
    lambda event, uid: _fresh(
        _fresh(event, STRIPE_EVENT, ("id",), f"evt_{uid.hex}"),
        STRIPE_EVENT,
        ("data", "object", "id"),
        f"cs_live_{uid.hex}",
    ),
    with_changes(STRIPE_EVENT, STRIPE_FIELDS),
    st.uuids(),
)
stripe_events = weighted((3, changed_events), (1, any_json))

changed_batches = st.builds(
    lambda batch, uid: [
        {**event, "sg_event_id": f"{event['sg_event_id']}-{uid.hex}"}
        if isinstance(event, dict) and event.get("sg_event_id") in ("ev-bounce", "ev-open")
        else event
        for event in batch
    ],
    with_changes(SENDGRID_BATCH, SENDGRID_FIELDS),
    st.uuids(),
)
sendgrid_batches = weighted((3, changed_batches), (1, any_json))


@pytest.fixture
def ana(session):
    """The customer the SendGrid events are about, so that a bounce has someone to suppress."""
    customer = make_customer(session, email="ana@example.com")
    session.commit()
    return customer


def assert_held(response, before: dict, after: dict) -> None:
    """A 2xx or a 4xx problem document; a 4xx changed nothing."""
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        assert after == before


@HOSTILE
@given(order=shopify_orders, webhook_id=st.one_of(st.uuids().map(str), header_text))
def test_any_signed_shopify_order_gets_an_answer_and_a_refusal_changes_nothing(
    client, doors, session, order, webhook_id
):
    body = json_body(order)
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Hmac-Sha256": sign(body),
        "X-Shopify-Webhook-Id": webhook_id,
    }
    before = row_counts(session)

    response = client.post("/webhooks/shopify", data=body, headers=headers)

    assert response.status_code != 401
    assert_held(response, before, row_counts(session))


@HOSTILE
@given(event=stripe_events)
def test_any_signed_stripe_event_gets_an_answer_and_a_refusal_changes_nothing(
    client, doors, session, clock, event
):
    body = json_body(event)
    timestamp = int(clock.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": f"t={timestamp},v1={signature(body, timestamp)}",
    }
    before = row_counts(session)

    response = client.post("/webhooks/stripe", data=body, headers=headers)

    assert response.status_code != 401
    assert_held(response, before, row_counts(session))


@HOSTILE
@given(batch=sendgrid_batches)
def test_any_signed_sendgrid_batch_gets_an_answer_and_a_refusal_changes_nothing(
    client, doors: SendGridSigner, session, clock, ana, batch
):
    body = json_body(copy.deepcopy(batch))
    before = row_counts(session)

    response = client.post(
        "/webhooks/sendgrid", data=body, headers=doors.headers(body, clock.now())
    )

    assert response.status_code != 401
    assert_held(response, before, row_counts(session))
