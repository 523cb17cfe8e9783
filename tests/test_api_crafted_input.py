"""Crafted input through every door of /api/v1 answers a 4xx problem document and changes nothing.

Dates Python or the database cannot hold, unknown and absurd time zones, lone
surrogates, NUL bytes (PostgreSQL refuses them in text), line breaks in names that
end up in mail headers, addresses no mail server takes, huge numbers, and blank
strings where the document says minLength 1: each is refused at the door with a 422
naming the field, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveys.models import (
    AuditEntry,
    CaseEvent,
    Customer,
    OutboxMessage,
    Purchase,
    PurchaseItem,
    QuestionSetVersion,
    Survey,
    Touchpoint,
)
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_case, make_customer, make_user

GOOD = {"order_id": "A-1001", "customer": {"email": "ana@example.com"}}
TABLES = (
    Customer,
    Purchase,
    PurchaseItem,
    Survey,
    OutboxMessage,
    Touchpoint,
    CaseEvent,
    QuestionSetVersion,
    AuditEntry,
)


def purchase(**changes) -> dict:
    return {**GOOD, **changes}


def customer(**changes) -> dict:
    return purchase(customer={"email": "ana@example.com", **changes})


CRAFTED_PURCHASES = [
    (purchase(purchased_at="0001-01-01T00:00:00+01:00"), "purchased_at"),
    (purchase(purchased_at="9999-12-31T23:59:59-01:00"), "purchased_at"),
    (purchase(purchased_at="1899-12-31T23:59:59Z"), "purchased_at"),
    (customer(timezone="Mars/Olympus"), "customer.timezone"),
    (customer(timezone="Europe/" + "x" * 293), "customer.timezone"),
    (customer(timezone="right/UTC"), "customer.timezone"),
    (purchase(order_id="A-\ud800"), "order_id"),
    (customer(name="Ana \ud83d"), "customer.name"),
    (purchase(order_id="A-\x00"), "order_id"),
    (customer(name="Ana\x00"), "customer.name"),
    (customer(id="cus\x00"), "customer.id"),
    (purchase(items=[{"sku": "KB\x00"}]), "items.0.sku"),
    (purchase(currency="E\x00R"), "currency"),
    (customer(name="Ana\r\nBcc: all@example.com"), "customer.name"),
    (customer(name="Ana\nDiaz"), "customer.name"),
    (customer(email="ñandú@example.com"), "customer.email"),
    (customer(email="ana\x00@example.com"), "customer.email"),
    (purchase(owner_email="olivia\x00@shop.test"), "owner_email"),
    (purchase(total=10**30), "total"),
    (purchase(total=1e308), "total"),
    (purchase(items=[{"quantity": 10**30}]), "items.0.quantity"),
    (purchase(items=[{"quantity": 2**31}]), "items.0.quantity"),
    (purchase(items=[{"unit_price": "9" * 400}]), "items.0.unit_price"),
    (purchase(order_id=""), "order_id"),
    (customer(email=""), "customer.email"),
]


@pytest.fixture
def auth(session):
    _key, raw = make_api_key(session)
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def case(session):
    owner = make_user(session, email="olivia@shop.test")
    make_user(session, email="ben@shop.test")
    made = make_case(session, owner=owner, customer=make_customer(session), now=TEST_START)
    session.commit()
    return made


def row_counts(session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in TABLES
    }


def assert_refused(response, field: str | None, status: int = 422) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    if field is not None:
        assert list(response.get_json()["errors"]) == [field]


@pytest.mark.parametrize("body, field", CRAFTED_PURCHASES)
def test_a_crafted_purchase_is_refused_naming_the_field(client, session, auth, clock, body, field):
    before = row_counts(session)

    response = client.post("/api/v1/purchases", json=body, headers=auth)

    assert_refused(response, field)
    assert row_counts(session) == before


@pytest.mark.parametrize(
    "action, body, field",
    [
        ("comments", {"body": "Called her.\x00"}, "body"),
        ("comments", {"body": "Called \ud800her."}, "body"),
        ("comments", {"body": ""}, "body"),
        ("replies", {"message": "Sorry\x00"}, "message"),
        ("resolve", {"resolution": "\x00"}, "resolution"),
        ("reassign", {"owner_email": "ben@shop.test\x00", "reason": "Holidays."}, "owner_email"),
        ("reassign", {"owner_email": "ben@shop.test", "reason": "Holi\x00days."}, "reason"),
    ],
)
def test_a_crafted_case_action_is_refused_naming_the_field(
    client, session, auth, case, clock, action, body, field
):
    before = row_counts(session)

    response = client.post(f"/api/v1/cases/{case.id}/{action}", json=body, headers=auth)

    assert_refused(response, field)
    assert row_counts(session) == before


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
        ({"occurred_at": "9999-12-31T23:59:59-01:00"}, "occurred_at"),
        ({"kind": "invoice\x00"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"note": "paid \ud800"}, "note"),
        ({"customer_email": "ana@example.com\x00"}, "customer_email"),
    ],
)
def test_a_crafted_touch_point_is_refused_naming_the_field(
    client, session, auth, clock, changes, field
):
    make_customer(session, email="ana@example.com")
    session.commit()
    before = row_counts(session)
    body = {"customer_email": "ana@example.com", "kind": "invoice", "polarity": "negative"}

    response = client.post("/api/v1/touchpoints", json={**body, **changes}, headers=auth)

    assert_refused(response, field)
    assert row_counts(session) == before


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/v1/responses?since=0001-01-01T00:00:00%2B01:00", "since"),
        ("/api/v1/responses?since=9999-12-31T23:59:59-01:00", "since"),
        ("/api/v1/responses?limit=99999999999999999999", "limit"),
        ("/api/v1/responses?cursor=99999999999999999999_1", "cursor"),
        ("/api/v1/cases?owner=olivia%00@shop.test", "owner"),
        ("/api/v1/cases?status=open%00", "status"),
        ("/api/v1/cases?cursor=%00", "cursor"),
        ("/api/v1/customers?email=ana%00@example.com", "email"),
        ("/api/v1/customers?email=", "email"),
        ("/api/v1/question-sets/heart-to-heart?version=99999999999999999999", "version"),
    ],
)
def test_a_crafted_query_is_refused_naming_the_parameter(client, auth, path, field):
    assert_refused(client.get(path, headers=auth), field)


@pytest.mark.parametrize("key", ["%00", "heart%00", "x" * 300, "%ED%A0%80"])
def test_a_question_set_key_no_set_can_have_is_not_found(client, auth, key):
    assert_refused(client.get(f"/api/v1/question-sets/{key}", headers=auth), None, 404)


def test_a_cursor_past_every_row_is_an_empty_page(client, auth):
    response = client.get("/api/v1/responses?cursor=99999999999999999_9999999999", headers=auth)

    assert response.status_code == 200
    assert response.get_json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "question, field",
    [
        ({"key": "ok", "type": "text", "text": "All well?\x00"}, "questions.0.text"),
        ({"key": "ok", "type": "text", "text": "All \ud800well?"}, "questions.0.text"),
        ({"key": "ok\x00", "type": "text", "text": "All well?"}, "questions.0.key"),
        (
            {"key": "s", "type": "scale", "text": "?", "min": 10**30, "max": 5},
            "questions.0.min",
        ),
        (
            {
                "key": "c",
                "type": "choice",
                "text": "?",
                "options": [{"value": "a", "label": "A\x00"}, {"value": "b", "label": "B"}],
            },
            "questions.0.options.0.label",
        ),
    ],
)
def test_a_crafted_question_set_is_refused_naming_the_field(client, session, auth, question, field):
    before = row_counts(session)

    response = client.put(
        "/api/v1/question-sets/heart-to-heart", json={"questions": [question]}, headers=auth
    )

    assert_refused(response, field)
    assert row_counts(session) == before


def test_a_new_question_set_under_a_key_with_a_nul_byte_is_refused(client, session, auth):
    response = client.put(
        "/api/v1/question-sets/new%00set",
        json={"questions": [{"key": "ok", "type": "text", "text": "All well?"}]},
        headers=auth,
    )

    assert_refused(response, "key")
