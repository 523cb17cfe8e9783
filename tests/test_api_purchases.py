"""POST /api/v1/purchases: recording a purchase once and deciding its survey."""

from __future__ import annotations

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
    QuestionSetAssignment,
    Survey,
)
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import set_setting
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_customer, make_user

ORDER = {
    "order_id": "A-1001",
    "customer": {
        "email": "ana@example.com",
        "name": "Ana Diaz",
        "id": "cus_42",
        "timezone": "Europe/Madrid",
    },
    "purchased_at": "2026-11-23T08:55:00Z",
    "total": "129.90",
    "currency": "EUR",
    "items": [
        {
            "sku": "KB-1",
            "name": "Keyboard",
            "category": "hardware",
            "quantity": 1,
            "unit_price": "129.90",
        }
    ],
}


@pytest.fixture
def auth(session):
    _key, raw = make_api_key(session)
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


def post(client, auth, body: dict):
    return client.post("/api/v1/purchases", json=body, headers=auth)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def order(order_id: str, email: str = "ana@example.com", **fields) -> dict:
    return {"order_id": order_id, "customer": {"email": email}, **fields}


def test_new_purchase_answers_201_and_queues_the_survey_right_away(client, auth, session, clock):
    response = post(client, auth, ORDER)

    assert response.status_code == 201
    body = response.get_json()
    purchase = session.scalars(select(Purchase)).one()
    survey = session.scalars(select(Survey)).one()
    assert body == {
        "id": purchase.id,
        "order_id": "A-1001",
        "customer_id": purchase.customer_id,
        "survey": {
            "id": survey.id,
            "status": "scheduled",
            "send_at": "2026-11-23T09:00:00Z",
            "reason": None,
        },
    }
    assert purchase.purchased_at == datetime(2026, 11, 23, 8, 55, tzinfo=UTC)
    assert (purchase.total, purchase.currency, purchase.source) == (Decimal("129.90"), "EUR", "api")
    item = session.scalars(select(PurchaseItem)).one()
    assert (item.sku, item.name, item.category, item.quantity, item.unit_price) == (
        "KB-1",
        "Keyboard",
        "hardware",
        1,
        Decimal("129.90"),
    )
    customer = session.get(Customer, purchase.customer_id)
    assert (customer.email, customer.name, customer.external_id, customer.timezone) == (
        "ana@example.com",
        "Ana Diaz",
        "cus_42",
        "Europe/Madrid",
    )
    assert (survey.kind, survey.purchase_id, survey.question_set.key) == (
        "purchase",
        purchase.id,
        "heart-to-heart",
    )
    message = session.scalars(select(OutboxMessage)).one()
    assert (message.template, message.to_email, message.survey_id, message.status) == (
        "survey",
        "ana@example.com",
        survey.id,
        "pending",
    )
    assert message.next_attempt_at == TEST_START


def test_only_order_id_and_email_are_needed_and_the_purchase_is_dated_now(
    client, auth, session, clock
):
    response = post(client, auth, order("A-1", "bo@example.com"))

    assert response.status_code == 201
    assert response.get_json()["survey"]["send_at"] == "2026-11-23T09:00:00Z"
    purchase = session.scalars(select(Purchase)).one()
    assert purchase.purchased_at == TEST_START
    assert (purchase.total, purchase.currency, purchase.items) == (None, None, [])


def test_repeated_order_answers_200_with_the_same_body_and_creates_nothing(
    client, auth, session, clock
):
    first = post(client, auth, ORDER)
    clock.advance(minutes=5)
    again = post(
        client,
        auth,
        {**ORDER, "customer": {**ORDER["customer"], "name": "Someone Else"}, "total": "1.00"},
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert [
        count(session, m) for m in (Customer, Purchase, PurchaseItem, Survey, OutboxMessage)
    ] == [1, 1, 1, 1, 1]
    # Nothing of the repeat was applied, not even to the customer.
    assert session.scalars(select(Customer.name)).one() == "Ana Diaz"
    assert session.scalars(select(Purchase.total)).one() == Decimal("129.90")


def test_repeated_order_from_another_address_leaves_no_new_customer_behind(
    client, auth, session, clock
):
    first = post(client, auth, ORDER)
    again = post(client, auth, order("A-1001", "someone.else@example.com"))

    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert session.scalars(select(Customer.email)).all() == ["ana@example.com"]


def test_survey_waits_for_the_configured_delay_after_the_purchase(client, auth, session, clock):
    set_setting(session, "survey_delay_minutes", 90)
    session.commit()

    response = post(client, auth, order("A-1", purchased_at="2026-11-23T08:30:00+01:00"))

    # 07:30 UTC plus 90 minutes.
    assert response.get_json()["survey"]["send_at"] == "2026-11-23T09:00:00Z"
    set_setting(session, "survey_delay_minutes", 120)
    session.commit()
    later = post(client, auth, order("A-2", "bo@example.com"))
    assert later.get_json()["survey"]["send_at"] == "2026-11-23T11:00:00Z"
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_email == "bo@example.com")
    ).one()
    assert message.next_attempt_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def test_purchase_reported_late_is_asked_about_now_not_in_the_past(client, auth, clock):
    response = post(client, auth, order("A-1", purchased_at="2026-11-20T10:00:00Z"))

    assert response.get_json()["survey"] == {
        "id": response.get_json()["survey"]["id"],
        "status": "scheduled",
        "send_at": "2026-11-23T09:00:00Z",
        "reason": None,
    }


def test_purchase_older_than_the_age_limit_is_recorded_but_skipped(client, auth, session, clock):
    inside = post(client, auth, order("A-1", "in@example.com", purchased_at="2026-10-24T09:00:01Z"))
    too_old = post(
        client, auth, order("A-2", "old@example.com", purchased_at="2026-10-24T08:59:59Z")
    )

    assert inside.status_code == too_old.status_code == 201
    assert inside.get_json()["survey"]["status"] == "scheduled"
    assert too_old.get_json()["survey"]["status"] == "skipped"
    assert too_old.get_json()["survey"]["send_at"] is None
    assert too_old.get_json()["survey"]["reason"] == "The purchase is older than 30 days."
    survey = session.get(Survey, too_old.get_json()["survey"]["id"])
    assert survey.status_reason == "the purchase is older than 30 days"
    assert session.scalars(select(OutboxMessage.to_email)).all() == ["in@example.com"]


def test_age_limit_follows_its_setting(client, auth, session, clock):
    set_setting(session, "age_limit_days", 2)
    session.commit()

    response = post(client, auth, order("A-1", purchased_at="2026-11-20T09:00:00Z"))

    assert response.get_json()["survey"]["status"] == "skipped"


def test_second_purchase_inside_the_throttle_window_is_throttled(client, auth, session, clock):
    first = post(client, auth, order("A-1"))
    clock.advance(days=29)
    second = post(client, auth, order("A-2"))
    clock.advance(days=2)
    third = post(client, auth, order("A-3"))

    statuses = [r.get_json()["survey"]["status"] for r in (first, second, third)]
    assert statuses == ["scheduled", "throttled", "scheduled"]
    assert second.get_json()["survey"]["send_at"] is None
    assert second.get_json()["survey"]["reason"] == "Already surveyed in the last 30 days."
    assert count(session, Survey) == 3
    assert count(session, OutboxMessage) == 2
    assert count(session, Customer) == 1


def test_suppressed_customer_is_recorded_but_never_surveyed(client, auth, session, clock):
    customer = make_customer(session, email="gone@example.com")
    customer.suppressed_at = TEST_START - timedelta(days=3)
    customer.suppression_reason = "unsubscribed"
    session.commit()

    response = post(client, auth, order("A-1", "Gone@Example.com"))

    assert response.status_code == 201
    assert response.get_json()["customer_id"] == customer.id
    assert response.get_json()["survey"] == {
        "id": response.get_json()["survey"]["id"],
        "status": "suppressed",
        "send_at": None,
        "reason": "The address is suppressed (unsubscribed).",
    }
    assert count(session, OutboxMessage) == 0


def test_customer_is_one_per_address_whatever_its_capitals_and_keeps_what_is_not_resent(
    client, auth, session, clock
):
    post(client, auth, ORDER)
    clock.advance(days=1)
    response = post(
        client,
        auth,
        {
            "order_id": "A-2",
            "customer": {
                "email": "ANA@example.COM",
                "name": "Ana Díaz Pérez",
                "timezone": "America/Bogota",
            },
        },
    )

    customer = session.scalars(select(Customer)).one()
    assert response.get_json()["customer_id"] == customer.id
    assert (customer.email, customer.name, customer.external_id, customer.timezone) == (
        "ana@example.com",
        "Ana Díaz Pérez",
        "cus_42",
        "America/Bogota",
    )


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_email_makes_that_person_the_account_owner(client, auth, session, clock, role):
    owner = make_user(session, role=role, email=f"olivia-{role}@shop.test")
    session.commit()

    response = post(client, auth, {**ORDER, "owner_email": f"Olivia-{role}@Shop.test"})

    assert response.status_code == 201
    assert session.get(Customer, response.get_json()["customer_id"]).owner_id == owner.id


def test_item_category_chooses_its_question_set(client, auth, session, clock):
    review = get_question_set(session, "relationship-review")
    session.add(QuestionSetAssignment(category="hardware", question_set_id=review.id))
    session.commit()

    response = post(client, auth, ORDER)

    survey = session.get(Survey, response.get_json()["survey"]["id"])
    assert survey.question_set.key == "relationship-review"


def test_money_may_be_sent_as_numbers(client, auth, session, clock):
    response = post(
        client, auth, {**ORDER, "total": 129.9, "items": [{"sku": "KB-1", "unit_price": 64}]}
    )

    assert response.status_code == 201
    purchase = session.scalars(select(Purchase)).one()
    assert purchase.total == Decimal("129.90")
    assert purchase.items[0].unit_price == Decimal("64.00")


# --- concurrency: real commits, one connection per request ----------------------------------


def _post_at_once(app, headers: dict, bodies: list[dict]) -> list[int]:
    """Post each body from its own thread and client, all released at the same moment."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int | None] = [None] * len(bodies)
    failures: list[BaseException] = []

    def run(index: int, body: dict) -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=10)
            response = client.post("/api/v1/purchases", json=body, headers=headers)
            statuses[index] = response.status_code
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return statuses


def _committed_key(app) -> dict:
    with app.app_context():
        session = db.session()
        _key, raw = make_api_key(session)
        session.commit()
    return {"Authorization": f"Bearer {raw}"}


def _counts(app) -> dict[str, int]:
    with app.app_context():
        session = db.session()
        return {
            model.__name__: count(session, model)
            for model in (Customer, Purchase, Survey, OutboxMessage)
        }


def test_same_new_order_posted_concurrently_is_recorded_exactly_once(committed_app):
    headers = _committed_key(committed_app)

    statuses = _post_at_once(committed_app, headers, [ORDER] * 8)

    assert sorted(statuses) == [200] * 7 + [201]
    assert _counts(committed_app) == {"Customer": 1, "Purchase": 1, "Survey": 1, "OutboxMessage": 1}


def test_two_orders_of_one_new_customer_at_once_make_one_customer_and_one_survey(committed_app):
    headers = _committed_key(committed_app)

    statuses = _post_at_once(
        committed_app, headers, [order("A-1", "new@example.com"), order("A-2", "New@example.com")]
    )

    assert statuses == [201, 201]
    assert _counts(committed_app) == {"Customer": 1, "Purchase": 2, "Survey": 2, "OutboxMessage": 1}
    with committed_app.app_context():
        statuses = db.session().scalars(select(Survey.status).order_by(Survey.status)).all()
    assert statuses == ["scheduled", "throttled"]
