"""Recording purchases: the moment a heart to heart starts.

Every way a purchase reaches us (the API, CSV import, Shopify and Stripe
webhooks, the Delighted-compatible endpoint) turns it into a `PurchaseInput`
and calls `record_purchase`, so the rules for customers, idempotency and the
survey decision live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.db import insert_row
from surveys.models import Customer, Purchase, PurchaseItem, Survey, User
from surveys.models.surveys import SurveyStatus
from surveys.services.question_sets.assignments import question_set_for_purchase
from surveys.services.settings import all_settings
from surveys.services.surveys.held import first_unfinished_case, hold_reason
from surveys.services.surveys.scheduling import record_unsent_survey, schedule_survey
from surveys.validation.properties import check_properties

# A purchase dated further ahead than this is a wrong clock or a wrong field, not a sale.
FUTURE_TOLERANCE = timedelta(days=1)
OWNER_ROLES = ("owner", "admin")


@dataclass(frozen=True)
class CustomerInput:
    """Who bought. Only the email is required; other fields update the customer when given."""

    email: str
    name: str | None = None
    external_id: str | None = None
    timezone: str | None = None
    # BCP 47, normalised (surveys.languages.normalise_locale); None keeps what we knew.
    locale: str | None = None


@dataclass(frozen=True)
class ItemInput:
    """One line of the order; its category can choose the question set."""

    sku: str | None = None
    name: str | None = None
    category: str | None = None
    quantity: int = 1
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class PurchaseInput:
    """A purchase as any source reports it, already checked for shape by its parser."""

    order_id: str
    customer: CustomerInput
    purchased_at: datetime | None = None  # aware; None means "just now"
    total: Decimal | None = None
    currency: str | None = None
    items: tuple[ItemInput, ...] = ()
    owner_email: str | None = None
    # Anything else the sender told about the purchase; checked by record_purchase
    # (surveys.validation.properties: 50 at most, names ≤ 64 and values ≤ 500 characters).
    properties: dict[str, str] | None = None
    # The provider's id of the payment (Stripe's PaymentIntent), which its refunds name.
    payment_reference: str | None = None


@dataclass(frozen=True)
class PurchaseResult:
    """What record_purchase did: `created` is False when the order was already known."""

    purchase: Purchase
    # None only for a purchase recorded without a survey by other means (never by record_purchase).
    survey: Survey | None
    created: bool


class PurchaseRejected(Exception):
    """The input is well-formed but cannot be accepted; `errors` names each field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors


def record_purchase(
    session: Session,
    purchase_input: PurchaseInput,
    *,
    now: datetime,
    source: str = "api",
    survey_delay: timedelta | None = None,
    send_survey: bool = True,
) -> PurchaseResult:
    """Record a purchase once and decide its survey; a known order_id returns what exists.

    Safe under concurrent duplicates: order_id and the customer's email are
    unique, so exactly one transaction inserts each and the others find its
    rows instead. Raises PurchaseRejected (changing nothing) for an unknown
    owner or a date in the future. `survey_delay` replaces the configured
    survey delay for this purchase; `send_survey=False` records the purchase
    with a `skipped` survey (a sender that surveys the customer itself).
    """
    purchased_at = purchase_input.purchased_at or now
    if purchased_at > now + FUTURE_TOLERANCE:
        raise PurchaseRejected({"purchased_at": ["is in the future"]})
    properties, errors = check_properties(purchase_input.properties)
    if errors:
        raise PurchaseRejected(errors)
    owner = _find_owner(session, purchase_input.owner_email)

    customer, customer_is_new = _find_or_insert_customer(
        session, purchase_input.customer, owner, now=now
    )
    purchase = _insert_purchase(
        session, purchase_input, customer, purchased_at, properties, now=now, source=source
    )
    if purchase is None:
        # A repeat (or a concurrent twin) of a known order: leave no trace of this one.
        if customer_is_new:
            session.delete(customer)
            session.flush()
        existing = find_purchase(session, purchase_input.order_id)
        assert existing is not None, "ON CONFLICT skips only rows already committed"
        return existing
    if not customer_is_new:
        _apply_customer_fields(customer, purchase_input.customer, owner)

    survey = _decide_survey(
        session,
        customer,
        purchase,
        purchase_input.items,
        now=now,
        customer_is_new=customer_is_new,
        survey_delay=survey_delay,
        send_survey=send_survey,
    )
    return PurchaseResult(purchase=purchase, survey=survey, created=True)


def find_purchase(session: Session, order_id: str) -> PurchaseResult | None:
    """The purchase already recorded under this order id, with its survey."""
    purchase = session.scalar(select(Purchase).where(Purchase.order_id == order_id))
    if purchase is None:
        return None
    survey = session.scalar(
        select(Survey)
        .where(Survey.purchase_id == purchase.id, Survey.kind == "purchase")
        .order_by(Survey.id)
        .limit(1)
    )
    return PurchaseResult(purchase=purchase, survey=survey, created=False)


def normalize_email(email: str) -> str:
    """Customers are one per address, whatever its capitals."""
    return email.strip().lower()


def _find_owner(session: Session, owner_email: str | None) -> User | None:
    """The active owner or admin who will own this customer, or PurchaseRejected."""
    if owner_email is None:
        return None
    owner = session.scalar(
        select(User).where(
            func.lower(User.email) == normalize_email(owner_email),
            User.role.in_(OWNER_ROLES),
            User.active.is_(True),
        )
    )
    if owner is None:
        raise PurchaseRejected({"owner_email": ["is not an active owner or admin"]})
    return owner


def _find_or_insert_customer(
    session: Session, data: CustomerInput, owner: User | None, *, now: datetime
) -> tuple[Customer, bool]:
    """The customer with this email, locked until commit, and whether this call created them.

    Lock order: the customer row first, before anything that references it.
    Inserting a purchase (or a survey, an outbox row) takes PostgreSQL's FOR KEY
    SHARE lock on the customer through the foreign key, and deciding the survey
    needs FOR UPDATE on the same row. When several orders of one customer
    arrived at once, each transaction held KEY SHARE and then waited for the
    others to let go of theirs before it could upgrade: a deadlock, and 9 of 10
    orders answered 500. Taking FOR UPDATE here, in the query that finds the
    customer, makes the orders queue on that one lock and nothing is upgraded
    later. We chose this over retrying deadlocked transactions because it
    prevents the deadlock instead of repeating work after one, needs no extra
    round trip, and keeps one commit per request; SQLite already serialises
    writers (BEGIN IMMEDIATE), where FOR UPDATE is a no-op.
    """
    email = normalize_email(data.email)
    customer = insert_row(
        session,
        Customer,
        {
            "email": email,
            "name": data.name,
            "external_id": data.external_id,
            "timezone": data.timezone,
            "locale": data.locale,
            "owner_id": owner.id if owner else None,
            "created_at": now,
        },
        unless_exists="email",
    )
    if customer is not None:
        # A row this transaction inserted is invisible to the others (a concurrent
        # insert of the same address waits for our commit): it is ours alone.
        return customer, True
    existing = session.scalars(
        select(Customer)
        .where(Customer.email == email)
        .with_for_update()
        # Read after the lock is granted: a concurrent purchase or unsubscribe may just
        # have changed the row, and the survey decision must see what they committed.
        .execution_options(populate_existing=True)
    ).one()
    return existing, False


def find_or_create_customer(
    session: Session, data: CustomerInput, *, now: datetime
) -> tuple[Customer, bool]:
    """The customer with this email, created from `data` or updated with its given fields.

    Returns the customer, locked until the transaction ends, and whether this
    call created them. Safe under concurrent calls for one new address (the
    insert skips an existing row).
    """
    customer, is_new = _find_or_insert_customer(session, data, None, now=now)
    if not is_new:
        _apply_customer_fields(customer, data, None)
    return customer, is_new


def _apply_customer_fields(customer: Customer, data: CustomerInput, owner: User | None) -> None:
    """What a later purchase tells about a known customer; absent fields keep their value."""
    if data.name is not None:
        customer.name = data.name
    if data.external_id is not None:
        customer.external_id = data.external_id
    if data.timezone is not None:
        customer.timezone = data.timezone
    if data.locale is not None:
        customer.locale = data.locale
    if owner is not None:
        customer.owner_id = owner.id


def _insert_purchase(
    session: Session,
    data: PurchaseInput,
    customer: Customer,
    purchased_at: datetime,
    properties: dict[str, str],
    *,
    now: datetime,
    source: str,
) -> Purchase | None:
    """The new purchase with its items, or None when the order id is already known."""
    purchase = insert_row(
        session,
        Purchase,
        {
            "order_id": data.order_id,
            "customer_id": customer.id,
            "purchased_at": purchased_at,
            "total": data.total,
            "currency": data.currency,
            "source": source,
            "properties": properties,
            "payment_reference": data.payment_reference,
            "created_at": now,
        },
        unless_exists="order_id",
    )
    if purchase is None:
        return None
    if data.items:  # one statement for all the items; nothing in this request reads them back
        session.execute(
            PurchaseItem.__table__.insert(),
            [
                {
                    "purchase_id": purchase.id,
                    "sku": item.sku,
                    "name": item.name,
                    "category": item.category,
                    "quantity": item.quantity,
                    "unit_price": item.unit_price,
                }
                for item in data.items
            ],
        )
    return purchase


def _decide_survey(
    session: Session,
    customer: Customer,
    purchase: Purchase,
    items: tuple[ItemInput, ...],
    *,
    now: datetime,
    customer_is_new: bool,
    survey_delay: timedelta | None = None,
    send_survey: bool = True,
) -> Survey:
    """Skip purchases too old to ask about; hold the survey while the customer has a case
    open; otherwise schedule (or throttle, or suppress)."""
    settings = all_settings(session)  # one query for every setting this decision needs
    question_set = question_set_for_purchase(
        session,
        purchase,
        default_key=str(settings["purchase_question_set"]),
        categories=[item.category for item in items if item.category],
    )
    age_limit_days = int(settings["age_limit_days"])
    skip_reason = None
    if not send_survey:
        skip_reason = "the sender asked for no survey"
    elif purchase.purchased_at < now - timedelta(days=age_limit_days):
        skip_reason = f"the purchase is older than {age_limit_days} days"
    if skip_reason is not None:
        return record_unsent_survey(
            session,
            customer=customer,
            kind="purchase",
            question_set=question_set,
            now=now,
            purchase=purchase,
            status=SurveyStatus.SKIPPED,
            reason=skip_reason,
        )
    if not customer_is_new and customer.suppressed_at is None:
        # Decided again when the case closes (surveys.services.surveys.held).
        waiting_on = first_unfinished_case(session, customer.id)
        if waiting_on is not None:
            return record_unsent_survey(
                session,
                customer=customer,
                kind="purchase",
                question_set=question_set,
                now=now,
                purchase=purchase,
                status=SurveyStatus.HELD,
                reason=hold_reason(waiting_on),
            )
    delay = (
        survey_delay
        if survey_delay is not None
        else timedelta(minutes=int(settings["survey_delay_minutes"]))
    )
    # An order reported late is asked about now, not at a moment already past.
    send_at = max(purchase.purchased_at + delay, now)
    return schedule_survey(
        session,
        customer=customer,
        kind="purchase",
        question_set=question_set,
        now=now,
        send_at=send_at,
        purchase=purchase,
        customer_is_new=customer_is_new,
        customer_locked=True,  # by _find_or_insert_customer, before the purchase was inserted
    )
