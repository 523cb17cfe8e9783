"""Crafted input through the webhooks in (issue 8, item 3): Shopify, Stripe and SendGrid.

Each correctly signed, so that the parser is reached, and each answers a 4xx
problem document and changes nothing, on SQLite and PostgreSQL, where a NUL
byte, a lone surrogate, a year out of range or absurd nesting used to surface
as a 500.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.models import Customer, EmailEvent
from tests.conftest import TEST_START
from tests.factories import make_customer
from tests.inbound import (
    LONE_SURROGATE,
    NOTHING,
    NUL,
    assert_refused_as_problem,
    doors,
    nested_json,
    raw_json,
    row_counts,
    shopify_delivery,
    stripe_signed,
)
from tests.test_webhooks_shopify import ORDER
from tests.test_webhooks_stripe import event as stripe_event

__all__ = ["doors"]  # a fixture
NOW = int(TEST_START.timestamp())


# --- Shopify --------------------------------------------------------------------------------


def deliver_shopify(client, order) -> object:
    body, headers = shopify_delivery(order)
    return client.post("/webhooks/shopify", data=body, headers=headers)


def shopify_order(**changes) -> dict:
    order = copy.deepcopy(ORDER)
    order.update(changes)
    return order


@pytest.mark.parametrize(
    ("field", "order"),
    [
        ("id", shopify_order(id=10**200)),
        ("id", shopify_order(id=-5)),
        ("id", shopify_order(id=0)),
        ("customer.id", shopify_order(customer={**ORDER["customer"], "id": 10**200})),
        ("processed_at", shopify_order(processed_at="0001-01-01T00:00:00+01:00")),
        ("processed_at", shopify_order(processed_at="9999-12-31T23:59:59-01:00")),
        ("created_at", shopify_order(processed_at=None, created_at="0001-01-01T00:00:00+01:00")),
        ("created_at", shopify_order(processed_at=None, created_at="9999-12-31T23:59:59-01:00")),
    ],
    ids=[
        "id 10**200",
        "id -5",
        "id 0",
        "customer id 10**200",
        "processed_at year 0",
        "processed_at year 10000",
        "created_at year 0",
        "created_at year 10000",
    ],
)
def test_shopify_numbers_and_dates_out_of_range_answer_422(client, doors, session, field, order):
    response = deliver_shopify(client, order)

    assert_refused_as_problem(response, 422, field)
    assert row_counts(session) == NOTHING


@pytest.mark.parametrize("bad", [LONE_SURROGATE, NUL], ids=["lone surrogate", "NUL"])
@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("email", lambda order, bad: order.update(email=f"ana{bad}@example.com")),
        ("customer.first_name", lambda order, bad: order["customer"].update(first_name=bad)),
        ("line_items.0.sku", lambda order, bad: order["line_items"][0].update(sku=f"KB{bad}")),
        ("line_items.0.title", lambda order, bad: order["line_items"][0].update(title=bad)),
        ("currency", lambda order, bad: order.update(currency=f"EU{bad}")),
        ("total_price", lambda order, bad: order.update(total_price=f"1{bad}")),
    ],
)
def test_shopify_text_that_cannot_be_stored_answers_422(client, doors, session, field, change, bad):
    order = copy.deepcopy(ORDER)
    change(order, bad)

    response = deliver_shopify(client, order)

    assert_refused_as_problem(response, 422, field)
    assert row_counts(session) == NOTHING


def test_shopify_webhook_id_with_a_nul_byte_answers_422(client, doors, session):
    body, headers = shopify_delivery(ORDER)

    response = client.post(
        "/webhooks/shopify", data=body, headers={**headers, "X-Shopify-Webhook-Id": "a\x00b"}
    )

    assert_refused_as_problem(response, 422, "X-Shopify-Webhook-Id")
    assert row_counts(session) == NOTHING


def test_shopify_line_breaks_in_a_name_are_folded_not_refused(client, doors, session):
    order = shopify_order(customer={**ORDER["customer"], "first_name": "Ana\r\nMaria"})

    response = deliver_shopify(client, order)

    assert response.status_code == 201
    assert session.scalars(select(Customer.name)).one() == "Ana Maria Díaz"


# --- Stripe ---------------------------------------------------------------------------------


def deliver_stripe(client, payload) -> object:
    body, headers = stripe_signed(payload)
    return client.post("/webhooks/stripe", data=body, headers=headers)


@pytest.mark.parametrize("bad", [LONE_SURROGATE, NUL], ids=["lone surrogate", "NUL"])
@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("id", lambda bad: {"event_id": f"evt_{bad}"}),
        ("data.object.customer", lambda bad: {"customer": f"cus_{bad}"}),
        (
            "data.object.customer_details.name",
            lambda bad: {"customer_details": {"email": "a@b.co", "name": bad}},
        ),
        (
            "data.object.customer_details.email",
            lambda bad: {"customer_details": {"email": f"a{bad}@b.co"}},
        ),
        ("data.object.metadata.order_id", lambda bad: {"metadata": {"order_id": f"A{bad}"}}),
        ("data.object.metadata.item_name", lambda bad: {"metadata": {"item_name": bad}}),
        ("data.object.id", lambda bad: {"id": f"cs_{bad}"}),
    ],
)
def test_stripe_text_that_cannot_be_stored_answers_422(client, doors, session, field, fields, bad):
    options = fields(bad)
    event_id = options.pop("event_id", "evt_1")

    response = deliver_stripe(client, stripe_event(event_id=event_id, **options))

    assert_refused_as_problem(response, 422, field)
    assert row_counts(session) == NOTHING


@pytest.mark.parametrize("created", [253402300799, -62135596800, 10**30, -(10**30)])
def test_stripe_created_out_of_range_answers_422(client, doors, session, created):
    response = deliver_stripe(client, stripe_event(created=created))

    assert_refused_as_problem(response, 422, "data.object.created")
    assert row_counts(session) == NOTHING


# --- SendGrid events ------------------------------------------------------------------------


def post_events(client, signer, body: bytes):
    return client.post("/webhooks/sendgrid", data=body, headers=signer.headers(body, TEST_START))


def sendgrid_event(**fields) -> dict:
    return {
        "email": "ana@example.com",
        "timestamp": NOW - 60,
        "event": "bounce",
        "sg_event_id": "ev-1",
        "reason": "550 no such user",
        **fields,
    }


@pytest.mark.parametrize(
    ("field", "events"),
    [
        ("0.email", [sendgrid_event(email=f"ana{LONE_SURROGATE}@example.com")]),
        ("0.email", [sendgrid_event(email=f"ana{NUL}@example.com")]),
        ("0.reason", [sendgrid_event(reason=f"550 {LONE_SURROGATE}")]),
        ("0.reason", [sendgrid_event(reason=f"550 {NUL}")]),
        ("0.category", [sendgrid_event(category=["a", f"b{NUL}"])]),
        ("0.sg_event_id", [sendgrid_event(sg_event_id=f"ev{NUL}")]),
        ("0.event", [sendgrid_event(event=f"bounce{LONE_SURROGATE}")]),
        ("0.email", [sendgrid_event(email=None)]),
        ("0.email", [{k: v for k, v in sendgrid_event().items() if k != "email"}]),
        ("0.timestamp", [sendgrid_event(timestamp=10**30)]),
        ("0.timestamp", [sendgrid_event(timestamp=253402300799)]),
        ("0.timestamp", [sendgrid_event(timestamp=-(10**20))]),
        ("1", [sendgrid_event(), "not an event"]),
    ],
)
def test_sendgrid_events_that_cannot_be_stored_answer_422(client, doors, session, field, events):
    customer = make_customer(session, email="ana@example.com")
    session.commit()

    response = post_events(client, doors, raw_json(events))

    assert_refused_as_problem(response, 422, field)
    assert row_counts(session) == {**NOTHING, "Customer": 1}
    assert session.get(Customer, customer.id).suppressed_at is None


@pytest.mark.parametrize("depth", [100, 900, 50_000])
def test_sendgrid_events_nested_too_deeply_answer_400(client, doors, session, depth):
    event = '{"email": "ana@example.com", "timestamp": 1, "event": "open", "custom": '
    body = ("[" + event + nested_json(depth) + "}]").encode()

    response = post_events(client, doors, body)

    assert_refused_as_problem(response, 400)
    assert row_counts(session) == NOTHING


@pytest.mark.parametrize("body", [b"{}", b'"events"', b"42", b"null"])
def test_sendgrid_batch_that_is_not_a_list_answers_400(client, doors, session, body):
    response = post_events(client, doors, body)

    assert_refused_as_problem(response, 400)
    assert row_counts(session) == NOTHING


def test_sendgrid_events_with_nan_answer_400(client, doors, session):
    body = b'[{"email": "ana@example.com", "timestamp": 1, "event": "open", "score": NaN}]'

    response = post_events(client, doors, body)

    assert_refused_as_problem(response, 400)
    assert row_counts(session) == NOTHING


@pytest.mark.parametrize("depth", [40, 300])
@pytest.mark.parametrize("door", ["shopify", "stripe"])
def test_provider_bodies_nested_too_deeply_answer_400(client, doors, session, door, depth):
    payload = ORDER if door == "shopify" else stripe_event()
    deep = {**payload, "note_attributes": json.loads(nested_json(depth))}
    body, headers = shopify_delivery(deep) if door == "shopify" else stripe_signed(deep)

    response = client.post(f"/webhooks/{door}", data=body, headers=headers)

    assert_refused_as_problem(response, 400)
    assert row_counts(session) == NOTHING


def test_sendgrid_event_timestamps_a_little_in_the_past_are_kept(client, doors, session):
    make_customer(session, email="ana@example.com")
    session.commit()
    moment = TEST_START - timedelta(days=3)
    body = raw_json([sendgrid_event(timestamp=int(moment.timestamp()))])

    response = post_events(client, doors, body)

    assert response.status_code == 200
    assert session.scalars(select(EmailEvent.occurred_at)).one() == moment
