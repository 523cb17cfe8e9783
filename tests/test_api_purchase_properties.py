"""POST /api/v1/purchases holds for any JSON body (hypothesis): 2xx or 4xx, never 5xx,
and a refused body changes nothing.

The bodies are drawn from any JSON at all and from purchase-shaped objects whose
fields hold what breaks parsers and databases: NUL bytes, lone surrogates, line
breaks in names, dates Python cannot hold, huge numbers, blank strings, unknown time
zones, properties that are not text. Each example runs on the same database as the last,
so a purchase accepted earlier may make a later one a repeat (200): that is part of what
is tested.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from surveys.models import Customer, OutboxMessage, Purchase, PurchaseItem, Survey
from tests.factories import make_api_key, make_user

AWKWARD_TEXT = [
    "",
    " ",
    "\x00",
    "A-\x00",
    "\ud800",
    "Ana\r\nDiaz",
    "x" * 300,
    "ñandú@example.com",
    "ana@example.com",
    "Ana@Example.COM",
    "ana@bücher.de",
    "olivia@shop.test",
    "Europe/Madrid",
    "Mars/Olympus",
    "../../etc/passwd",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-11-22T10:00:00Z",
    "2026-02-30T10:00:00Z",
    "1e999",
    "NaN",
    "-1",
    "129.90",
    "1" * 40,
    "EUR",
]
AWKWARD_NUMBERS = [0, -1, 1, 2**31, 2**63, 10**200, 1e308, -0.0, 0.001, 129.9, float("inf")]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(AWKWARD_TEXT),
    st.sampled_from(AWKWARD_NUMBERS),
)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
field = st.one_of(scalars, any_json)


sound_item = st.fixed_dictionaries(
    {},
    optional={
        "sku": st.sampled_from(["KB-1", None]),
        "name": st.just("Keyboard"),
        "category": st.sampled_from(["hardware", ""]),
        "quantity": st.integers(1, 5),
        "unit_price": st.sampled_from(["129.90", 12, None]),
    },
)
sound_purchase = st.fixed_dictionaries(
    {
        "order_id": st.text(alphabet="AB-12 ", min_size=1, max_size=6).filter(str.strip),
        "customer": st.fixed_dictionaries(
            {"email": st.sampled_from(["ana@example.com", "Ben@Example.com", "ana@bücher.de"])},
            optional={
                "name": st.sampled_from(["Ana Diaz", None]),
                "id": st.just("cus_42"),
                "timezone": st.sampled_from(["Europe/Madrid", None, ""]),
            },
        ),
    },
    optional={
        "purchased_at": st.sampled_from(["2026-11-22T10:00:00Z", "2026-11-23T09:30:00+01:00"]),
        "total": st.sampled_from(["129.90", 12, None]),
        "currency": st.sampled_from(["EUR", "usd", None]),
        "items": st.lists(sound_item, min_size=1, max_size=3),
        "owner_email": st.sampled_from([None, "olivia@shop.test", "OLIVIA@shop.test"]),
        "properties": st.dictionaries(
            st.sampled_from(["plan", "store", " plan ", "x" * 64]),
            st.sampled_from(["gold", "", "Gran Vía", "v" * 500]),
            max_size=3,
        ),
    },
)
# Where an awkward value may go in an otherwise sound purchase.
PLACES = (
    ("order_id",),
    ("customer",),
    ("customer", "email"),
    ("customer", "name"),
    ("customer", "id"),
    ("customer", "timezone"),
    ("purchased_at",),
    ("total",),
    ("currency",),
    ("items",),
    ("items", 0),
    ("items", 0, "quantity"),
    ("items", 0, "unit_price"),
    ("items", 0, "sku"),
    ("owner_email",),
    ("properties",),
    ("properties", "plan"),
    ("coupon",),
)


@st.composite
def purchase_shaped(draw) -> dict:
    """A sound purchase with none, one or two of its values made awkward."""
    body = draw(sound_purchase)
    for place in draw(st.lists(st.sampled_from(PLACES), max_size=2, unique=True)):
        target = body
        for step in place[:-1]:
            if step == "items" and not isinstance(target.get("items"), list):
                target["items"] = [{}]
            if step == "properties" and not isinstance(target.get("properties"), dict):
                target["properties"] = {}
            target = target[step]
            if not isinstance(target, dict | list):
                break
        else:
            target[place[-1]] = draw(field)
    return body


bodies = st.one_of(purchase_shaped(), any_json)


TABLES = (Customer, Purchase, PurchaseItem, Survey, OutboxMessage)


def row_counts(session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in TABLES
    }


@pytest.fixture
def auth(session):
    _key, raw = make_api_key(session)
    make_user(session, email="olivia@shop.test")
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


@settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    # One database for every example, on purpose (see the module's docstring).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_any_body_gets_2xx_or_4xx_and_a_refused_one_changes_nothing(
    client, session, clock, auth, body
):
    before = row_counts(session)

    response = client.post(
        "/api/v1/purchases",
        # Python's json writes lone surrogates as \ud800 escapes and NaN as NaN, as a
        # careless client would.
        data=json.dumps(body),
        headers={**auth, "Content-Type": "application/json"},
    )

    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        assert row_counts(session) == before
    else:
        assert response.status_code in (200, 201)
        assert response.get_json()["order_id"] == body["order_id"].strip()
