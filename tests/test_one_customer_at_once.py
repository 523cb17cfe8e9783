"""Many transactions about one customer at once: every one succeeds, in turn (issue 8, item 1).

Shopify and Stripe deliver bursts of one customer's orders (split orders,
retries). Each transaction locks the customer row before writing anything that
references it (see `lock_customer`), so they queue on that lock instead of
deadlocking. The API burst goes through gunicorn with four workers, as in
production; the other doors that record purchases, and resolving cases, are
driven from threads of this process, each request on its own connection.
All of it on a database with real commits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from surveys.db import db
from surveys.models import Case, Customer, OutboxMessage, Purchase, Survey
from tests.factories import make_api_key, make_case, make_customer, make_purchase, make_user

BURST = 10
EMAIL = "ana@example.com"
ONE_SURVEY_SENT = ["scheduled"] + ["throttled"] * (BURST - 1)


def _at_once(calls: list[Callable[[], tuple[int, dict]]]) -> list[tuple[int, dict]]:
    """Run each call in its own thread, all released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, dict] | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = calls[index]()
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    return results


def _http_post(url: str, body: dict, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {"error": error.read().decode(errors="replace")}


def _client_post(app, url: str, **kwargs) -> Callable[[], tuple[int, dict]]:
    def call() -> tuple[int, dict]:
        response = app.test_client().post(url, **kwargs)
        return response.status_code, response.get_json(silent=True) or {}

    return call


def _committed_key(app) -> str:
    with app.app_context():
        session = db.session()
        _key, raw = make_api_key(session)
        session.commit()
    return raw


def _existing_customer(app) -> None:
    """The customer, known from an old purchase that was never surveyed (so one may go now)."""
    with app.app_context():
        session = db.session()
        known = make_customer(session, email=EMAIL)
        make_purchase(session, known, purchased_at=datetime.now(UTC) - timedelta(days=90))
        session.commit()


def _stored(app) -> dict:
    with app.app_context():
        session = db.session()
        return {
            "customers": session.scalar(
                select(func.count(Customer.id)).where(Customer.email == EMAIL)
            ),
            "purchases": session.scalar(select(func.count(Purchase.id))),
            "survey statuses": sorted(session.scalars(select(Survey.status))),
            "survey emails": session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.template == "survey")
            ),
        }


def _recent() -> str:
    return (datetime.now(UTC) - timedelta(minutes=5)).isoformat()


@pytest.mark.parametrize("customer", ["new", "existing"])
def test_a_burst_of_one_customers_orders_under_gunicorn_records_each_and_sends_one_survey(
    committed_app, gunicorn_server, customer
):
    if customer == "existing":
        _existing_customer(committed_app)
    api_key = _committed_key(committed_app)
    base_url = gunicorn_server(committed_app, workers=4)
    orders = [
        {
            "order_id": f"BURST-{n}",
            "customer": {"email": EMAIL, "name": "Ana Diaz"},
            "purchased_at": _recent(),
            "total": "19.90",
            "currency": "EUR",
        }
        for n in range(BURST)
    ]
    headers = {"Authorization": f"Bearer {api_key}"}

    answers = _at_once(
        [
            lambda order=order: _http_post(f"{base_url}/api/v1/purchases", order, headers)
            for order in orders
        ]
    )

    assert [status for status, _ in answers] == [201] * BURST, answers
    assert sorted(body["survey"]["status"] for _, body in answers) == ONE_SURVEY_SENT
    assert len({body["customer_id"] for _, body in answers}) == 1
    assert _stored(committed_app) == {
        "customers": 1,
        "purchases": BURST + (customer == "existing"),
        "survey statuses": ONE_SURVEY_SENT,
        "survey emails": 1,
    }


SHOPIFY_SECRET = "burst-secret"


def _shopify_delivery(app, order_number: int) -> Callable[[], tuple[int, dict]]:
    body = json.dumps(
        {
            "id": 7000 + order_number,
            "email": EMAIL,
            "processed_at": _recent(),
            "currency": "EUR",
            "total_price": "19.90",
            "customer": {"first_name": "Ana", "last_name": "Díaz"},
            "line_items": [{"sku": "KB-1", "title": "Keyboard", "quantity": 1, "price": "19.90"}],
        }
    ).encode()
    signature = hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Hmac-Sha256": base64.b64encode(signature).decode(),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
    }
    return _client_post(app, "/webhooks/shopify", data=body, headers=headers)


def _delighted_person(app, api_key: str, order_number: int) -> Callable[[], tuple[int, dict]]:
    credentials = base64.b64encode(f"{api_key}:".encode()).decode()
    return _client_post(
        app,
        "/v1/people.json",
        json={"email": EMAIL, "name": "Ana Diaz", "properties": {"order_id": f"D-{order_number}"}},
        headers={"Authorization": f"Basic {credentials}"},
    )


@pytest.mark.parametrize("door", ["shopify", "delighted"])
def test_a_burst_of_one_known_customers_orders_through_other_doors_records_each(
    committed_app, door
):
    committed_app.config["SHOPIFY_WEBHOOK_SECRET"] = SHOPIFY_SECRET
    _existing_customer(committed_app)
    api_key = _committed_key(committed_app)
    calls = [
        _shopify_delivery(committed_app, n)
        if door == "shopify"
        else _delighted_person(committed_app, api_key, n)
        for n in range(BURST)
    ]

    answers = _at_once(calls)

    expected_status = 201 if door == "shopify" else 200
    assert [status for status, _ in answers] == [expected_status] * BURST, answers
    assert _stored(committed_app) == {
        "customers": 1,
        "purchases": BURST + 1,
        "survey statuses": ONE_SURVEY_SENT,
        "survey emails": 1,
    }


def test_resolving_several_cases_of_one_customer_at_once_resolves_each(committed_app):
    with committed_app.app_context():
        session = db.session()
        owner = make_user(session)
        customer = make_customer(session, email=EMAIL, owner=owner)
        case_ids = [make_case(session, owner=owner, customer=customer).id for _ in range(4)]
        session.commit()
    api_key = _committed_key(committed_app)
    calls = [
        _client_post(
            committed_app,
            f"/api/v1/cases/{case_id}/resolve",
            json={"resolution": "Sent a new keyboard."},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        for case_id in case_ids
    ]

    answers = _at_once(calls)

    assert [status for status, _ in answers] == [200] * len(case_ids), answers
    with committed_app.app_context():
        session = db.session()
        assert set(session.scalars(select(Case.status))) == {"resolved"}
        fix_checks = session.scalars(select(Survey.status).where(Survey.kind == "fix_check"))
        assert sorted(fix_checks) == ["scheduled"] * len(case_ids)
