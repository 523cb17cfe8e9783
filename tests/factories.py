"""Small builders for test data. Each adds rows, flushes, and returns what it made.

They insert rows directly, so a test can start from any state; tests of a
behaviour itself go through HTTP or the service that owns it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from surveys.auth import hash_api_key, hash_password, new_api_key_value
from surveys.models import ApiKey, Customer, Purchase, PurchaseItem, Survey, User
from surveys.services.question_sets import current_version, get_question_set
from surveys.services.tokens import mint_token

_sequence = itertools.count(1)
PASSWORD = "correct horse battery"


def make_user(session: Session, *, role: str = "owner", email: str | None = None,
              name: str | None = None, password: str = PASSWORD, active: bool = True) -> User:
    n = next(_sequence)
    user = User(
        email=email or f"{role}{n}@shop.test",
        name=name or f"{role.title()} {n}",
        role=role,
        password_hash=hash_password(password),
        active=active,
    )
    session.add(user)
    session.flush()
    return user


def make_api_key(session: Session, name: str = "test integration") -> tuple[ApiKey, str]:
    """An API key row and its raw value (the only time the raw value exists)."""
    raw = new_api_key_value()
    key = ApiKey(name=name, key_hash=hash_api_key(raw), prefix=raw[:8])
    session.add(key)
    session.flush()
    return key, raw


def make_customer(session: Session, *, email: str | None = None, name: str | None = "Ana Diaz",
                  owner: User | None = None, timezone: str | None = None) -> Customer:
    customer = Customer(
        email=email or f"customer{next(_sequence)}@example.com",
        name=name,
        owner_id=owner.id if owner else None,
        timezone=timezone,
    )
    session.add(customer)
    session.flush()
    return customer


def make_purchase(session: Session, customer: Customer, *, order_id: str | None = None,
                  purchased_at: datetime | None = None, total: str = "129.90",
                  items: list[dict] | None = None) -> Purchase:
    purchase = Purchase(
        order_id=order_id or f"A-{next(_sequence)}",
        customer_id=customer.id,
        purchased_at=purchased_at or datetime.now(UTC),
        total=Decimal(total),
        currency="EUR",
    )
    for item in items or [{"sku": "KB-1", "name": "Keyboard", "category": "hardware",
                           "quantity": 1, "unit_price": "129.90"}]:
        purchase.items.append(PurchaseItem(**{**item, "unit_price": Decimal(item["unit_price"])}
                                           if item.get("unit_price") else item))
    session.add(purchase)
    session.flush()
    return purchase


def make_sent_survey(session: Session, customer: Customer, *, purchase: Purchase | None = None,
                     question_set_key: str = "heart-to-heart", sent_at: datetime | None = None,
                     kind: str = "purchase") -> tuple[Survey, str]:
    """A survey already in the customer's mailbox, and the raw token of its link."""
    question_set = get_question_set(session, question_set_key)
    sent_at = sent_at or datetime.now(UTC)
    survey = Survey(
        kind=kind,
        status="sent",
        customer_id=customer.id,
        purchase_id=purchase.id if purchase else None,
        question_set_id=question_set.id,
        version_id=current_version(session, question_set).id,
        send_at=sent_at,
        sent_at=sent_at,
        expires_at=sent_at + timedelta(days=30),
    )
    session.add(survey)
    session.flush()
    return survey, mint_token(session, customer_id=customer.id, survey_id=survey.id)
