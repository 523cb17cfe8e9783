"""Small builders for test data. Each adds rows, flushes, and returns what it made.

They insert rows directly, so a test can start from any state; tests of a
behaviour itself go through HTTP or the service that owns it.
"""

from __future__ import annotations

import functools
import itertools
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from surveys.models import (
    Answer,
    ApiKey,
    Case,
    CaseEvent,
    Customer,
    OutboxMessage,
    Purchase,
    PurchaseItem,
    Response,
    Survey,
    User,
)
from surveys.services.insights.themes import record_answer_themes
from surveys.services.question_sets.versions import current_version, get_question_set
from surveys.services.surveys.tokens import mint_token
from surveys.services.users.api_keys import PREFIX_LENGTH, hash_api_key, new_api_key_value

_sequence = itertools.count(1)
PASSWORD = "correct horse battery"


@functools.cache
def _password_hash(password: str) -> str:
    # The app hashes with scrypt at its full, deliberately slow cost (tests/test_login.py
    # checks it). People made for tests get scrypt at a small cost instead: every login checks
    # the hash, and at full cost the suite's logins alone took minutes. The login code is the
    # same; werkzeug reads the cost from the stored hash.
    return generate_password_hash(password, method="scrypt:1024:8:1")


def make_user(
    session: Session,
    *,
    role: str = "owner",
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    active: bool = True,
) -> User:
    n = next(_sequence)
    user = User(
        email=email or f"{role}{n}@shop.test",
        name=name or f"{role.title()} {n}",
        role=role,
        password_hash=_password_hash(password),
        active=active,
    )
    session.add(user)
    session.flush()
    return user


def make_api_key(
    session: Session, name: str = "test integration", *, scope: str = "write"
) -> tuple[ApiKey, str]:
    """An API key row and its raw value (the only time the raw value exists)."""
    raw = new_api_key_value()
    key = ApiKey(name=name, key_hash=hash_api_key(raw), prefix=raw[:PREFIX_LENGTH], scope=scope)
    session.add(key)
    session.flush()
    return key, raw


def make_customer(
    session: Session,
    *,
    email: str | None = None,
    name: str | None = "Ana Diaz",
    owner: User | None = None,
    timezone: str | None = None,
) -> Customer:
    customer = Customer(
        email=email or f"customer{next(_sequence)}@example.com",
        name=name,
        owner_id=owner.id if owner else None,
        timezone=timezone,
    )
    session.add(customer)
    session.flush()
    return customer


def make_purchase(
    session: Session,
    customer: Customer,
    *,
    order_id: str | None = None,
    purchased_at: datetime | None = None,
    total: str = "129.90",
    items: list[dict] | None = None,
) -> Purchase:
    purchase = Purchase(
        order_id=order_id or f"A-{next(_sequence)}",
        customer_id=customer.id,
        purchased_at=purchased_at or datetime.now(UTC),
        total=Decimal(total),
        currency="EUR",
    )
    for item in items or [
        {
            "sku": "KB-1",
            "name": "Keyboard",
            "category": "hardware",
            "quantity": 1,
            "unit_price": "129.90",
        }
    ]:
        purchase.items.append(
            PurchaseItem(
                **{**item, "unit_price": Decimal(item["unit_price"])}
                if item.get("unit_price")
                else item
            )
        )
    session.add(purchase)
    session.flush()
    return purchase


def make_sent_survey(
    session: Session,
    customer: Customer,
    *,
    purchase: Purchase | None = None,
    question_set_key: str = "heart-to-heart",
    sent_at: datetime | None = None,
    kind: str = "purchase",
) -> tuple[Survey, str]:
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


UNHAPPY_ANSWERS = {
    "expectations": "short",
    "one_thing": "The keyboard arrived with a broken key and nobody answered my email.",
    "time_money": "somewhat",
    "recommend": "4",
}


def make_case(
    session: Session,
    *,
    owner: User,
    customer: Customer | None = None,
    purchase: Purchase | None = None,
    answers: dict[str, str] | None = None,
    status: str = "open",
    now: datetime | None = None,
    routed_by: str | None = None,
    question_set_key: str = "heart-to-heart",
    acknowledge_hours: int = 4,
    resolve_hours: int = 48,
) -> Case:
    """A case as if a customer had just answered unhappily: survey, response, answers, case.

    `answers` maps question keys of the set's current version to values (default: an
    unhappy heart-to-heart); each answer's `negative` follows its question's rule. The
    case opens at `now` with an "opened" event; `status` "acknowledged", "resolved" or
    "closed" also stamps those moments (at `now`) and their events, by the owner.
    """
    now = now or datetime.now(UTC)
    customer = customer or make_customer(session)
    purchase = purchase or make_purchase(session, customer, purchased_at=now - timedelta(hours=1))
    survey, _token = make_sent_survey(
        session,
        customer,
        purchase=purchase,
        question_set_key=question_set_key,
        sent_at=now - timedelta(minutes=30),
    )
    survey.status = "answered"
    survey.answered_at = now
    questions = {q.key: q for q in survey.version.questions}
    response = Response(
        survey_id=survey.id, version_id=survey.version_id, customer_id=customer.id, submitted_at=now
    )
    for key, value in (UNHAPPY_ANSWERS if answers is None else answers).items():
        question = questions[key]
        # As a submitted response keeps it: a written answer's sentiment and matched words too.
        reading = question.read_text(value) if question.type == "text" else None
        response.answers.append(
            Answer(
                question_id=question.id,
                position=question.position,
                value=value,
                negative=question.is_negative(value),
                sentiment=reading.score if reading else None,
                negative_words=(reading.words or None) if reading else None,
            )
        )
    response.negative = any(answer.negative for answer in response.answers)
    session.add(response)
    session.flush()
    record_answer_themes(session, response.answers)  # as submitting it does
    case = Case(
        status=status,
        response_id=response.id,
        customer_id=customer.id,
        purchase_id=purchase.id,
        owner_id=owner.id,
        routed_by=routed_by
        or ("account owner" if customer.owner_id == owner.id else "default owner"),
        acknowledge_by=now + timedelta(hours=acknowledge_hours),
        resolve_by=now + timedelta(hours=resolve_hours),
        created_at=now,
    )
    case.events.append(CaseEvent(kind="opened", created_at=now))
    if status in ("acknowledged", "resolved", "closed"):
        case.acknowledged_at = now
        case.events.append(CaseEvent(kind="acknowledged", actor_user_id=owner.id, created_at=now))
    if status in ("resolved", "closed"):
        case.resolved_at = now
        case.resolution = "Sent a new keyboard by express and apologised."
        case.events.append(
            CaseEvent(kind="resolved", actor_user_id=owner.id, body=case.resolution, created_at=now)
        )
    if status == "closed":
        case.closed_at = now
        case.closed_reason = "confirmed"
        case.events.append(CaseEvent(kind="closed", created_at=now))
    session.add(case)
    session.flush()
    return case


def make_due_surveys(
    session: Session, count: int, *, now: datetime, kinds=("purchase",), emails=None
) -> list[int]:
    """`count` customers, each with a purchase, a survey due `now` and its queued email.

    Inserted in bulk (a handful of statements whatever the count), for tests and
    benchmarks of delivery. Surveys of different `kinds` (taken in turn) have
    different bodies, so one claimed batch goes out as several requests. Returns
    the survey ids.
    """
    batch = os.urandom(3).hex()
    emails = emails or [f"c{n}-{batch}@example.com" for n in range(count)]
    question_set = get_question_set(session, "heart-to-heart")
    customer_ids = session.scalars(
        insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
        [{"email": email, "name": f"Customer{n} Lastname"} for n, email in enumerate(emails)],
    ).all()
    purchase_ids = session.scalars(
        insert(Purchase).returning(Purchase.id, sort_by_parameter_order=True),
        [
            {
                "order_id": f"B-{batch}-{n}",
                "customer_id": customer_id,
                "purchased_at": now,
                "total": Decimal("19.90"),
                "currency": "EUR",
            }
            for n, customer_id in enumerate(customer_ids)
        ],
    ).all()
    session.execute(
        insert(PurchaseItem),
        [
            {
                "purchase_id": purchase_id,
                "sku": f"SKU-{n % 7}",
                "name": f"Mug number {n % 7}",
                "quantity": 1,
            }
            for n, purchase_id in enumerate(purchase_ids)
        ],
    )
    survey_ids = session.scalars(
        insert(Survey).returning(Survey.id, sort_by_parameter_order=True),
        [
            {
                "kind": kinds[n % len(kinds)],
                "status": "scheduled",
                "customer_id": customer_id,
                "purchase_id": purchase_id,
                "question_set_id": question_set.id,
                "send_at": now,
            }
            for n, (customer_id, purchase_id) in enumerate(
                zip(customer_ids, purchase_ids, strict=True)
            )
        ],
    ).all()
    session.execute(
        insert(OutboxMessage),
        [
            {
                "channel": "email",
                "template": "survey",
                "to_email": email,
                "to_name": f"Customer{n} Lastname",
                "customer_id": customer_id,
                "survey_id": survey_id,
                "status": "pending",
                "next_attempt_at": now,
                "context": {},
            }
            for n, (email, customer_id, survey_id) in enumerate(
                zip(emails, customer_ids, survey_ids, strict=True)
            )
        ],
    )
    session.flush()
    return list(survey_ids)
