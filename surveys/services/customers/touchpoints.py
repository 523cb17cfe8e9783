"""Touch points: every contact with a customer, counted as positive, negative or neutral.

The aim is ten positive touches for every negative one. Which of the service's own
contacts count how is decided in one place, `surveys.services.customers.ledger`;
integrators add contacts made elsewhere through `POST /api/v1/touchpoints` (an invoice is
a negative one), and owners log theirs from the customer's page. This module records a
touch and keeps each customer's tally with it.

The ratio is positives per negative. While a customer has no negative touch
it is None (null in the API): there is nothing to divide by, and the aim is met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from surveys.models import Case, Customer, Survey, Touchpoint

# Which events get which polarity is decided in one place: surveys.services.customers.ledger.
POLARITIES = ("positive", "negative", "neutral")
# Ten positive touches for every negative one.
AIM = 10
MAX_KIND_LENGTH = 64
MAX_NOTE_LENGTH = 2000
# A contact "made elsewhere" has happened; a little clock skew between systems is fine.
FUTURE_TOLERANCE = timedelta(minutes=5)


class TouchpointError(ValueError):
    """A touch point that cannot be recorded; `errors` maps each field at fault to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field} {why}" for field, why in errors.items()))
        self.errors = errors

    @property
    def field(self) -> str:
        return next(iter(self.errors))


@dataclass(frozen=True)
class Tally:
    """A customer's positive and negative touches, against the aim of ten to one."""

    positive: int
    negative: int

    @property
    def ratio(self) -> float | None:
        """Positives per negative, to one decimal; None while there is no negative."""
        if not self.negative:
            return None
        return round(self.positive / self.negative, 1)

    @property
    def meets_aim(self) -> bool:
        return self.positive >= AIM * self.negative

    @property
    def positives_needed(self) -> int:
        """How many more positive touches reach ten per negative one."""
        return max(0, AIM * self.negative - self.positive)


def record_touchpoint(
    session: Session,
    *,
    customer: Customer,
    kind: str,
    polarity: str,
    now: datetime,
    note: str | None = None,
    case: Case | None = None,
    survey: Survey | None = None,
    occurred_at: datetime | None = None,
) -> Touchpoint:
    """Record one contact with the customer (when: `occurred_at`, else `now`).

    Raises TouchpointError naming `polarity`, `kind`, `note` or `occurred_at`.
    """
    errors = _problems(kind=kind, polarity=polarity, note=note, occurred_at=occurred_at, now=now)
    if errors:
        raise TouchpointError(errors)
    touchpoint = Touchpoint(
        customer_id=customer.id,
        kind=kind.strip(),
        polarity=polarity,
        note=(note or "").strip() or None,
        occurred_at=occurred_at or now,
        case_id=case.id if case else None,
        survey_id=survey.id if survey else None,
        created_at=now,
    )
    session.add(touchpoint)
    session.flush()
    _count_on_customer(session, touchpoint)
    return touchpoint


def _count_on_customer(session: Session, touchpoint: Touchpoint) -> None:
    """Add the touch to the customer's kept tally, in the touch point's own transaction.

    One UPDATE that adds to the stored value (not a read then a write), so two touches
    recorded at once for the same customer both count.
    """
    values: dict = {}
    if touchpoint.polarity == "neutral":
        return  # asked, not given: neither side of the ratio
    if touchpoint.polarity == "positive":
        last = Customer.last_positive_touch_at
        values[Customer.positive_touches] = Customer.positive_touches + 1
        # A contact made elsewhere may be older than the last one we know of.
        values[last] = sql_case(
            (or_(last.is_(None), last < touchpoint.occurred_at), touchpoint.occurred_at),
            else_=last,
        )
    else:
        values[Customer.negative_touches] = Customer.negative_touches + 1
    session.execute(
        update(Customer)
        .where(Customer.id == touchpoint.customer_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    customer = session.get(Customer, touchpoint.customer_id)
    if customer is not None:
        session.expire(customer, ["positive_touches", "negative_touches", "last_positive_touch_at"])


def _problems(
    *,
    kind: str | None,
    polarity: str | None,
    note: str | None,
    occurred_at: datetime | None,
    now: datetime,
) -> dict[str, str]:
    errors = {}
    if polarity not in POLARITIES:
        errors["polarity"] = "must be “positive”, “negative” or “neutral”"
    if not (kind or "").strip():
        errors["kind"] = "is required, e.g. “invoice” or “phone_call”"
    elif len(kind.strip()) > MAX_KIND_LENGTH:
        errors["kind"] = f"must be at most {MAX_KIND_LENGTH} characters"
    if note is not None and len(note.strip()) > MAX_NOTE_LENGTH:
        errors["note"] = f"must be at most {MAX_NOTE_LENGTH} characters"
    if occurred_at is not None and occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = "must not be in the future"
    return errors


def record_contact_elsewhere(
    session: Session,
    *,
    customer_email: str | None,
    kind: str | None,
    polarity: str | None,
    now: datetime,
    note: str | None = None,
    occurred_at: datetime | None = None,
) -> Touchpoint:
    """A contact an integrator tells us about (an invoice, a call), for a known customer.

    Raises TouchpointError naming every field at fault, `customer_email` among them
    when no customer has that address.
    """
    email = (customer_email or "").strip().lower()
    customer = (
        session.scalar(
            select(Customer).where(
                func.lower(Customer.email) == email, Customer.erased_at.is_(None)
            )
        )
        if email
        else None
    )
    errors = {}
    if customer is None:
        errors["customer_email"] = (
            "is required" if not email else "no customer has this email address"
        )
    errors.update(
        _problems(kind=kind, polarity=polarity, note=note, occurred_at=occurred_at, now=now)
    )
    if errors:
        raise TouchpointError(errors)
    return record_touchpoint(
        session,
        customer=customer,
        kind=kind,
        polarity=polarity,
        now=now,
        note=note,
        occurred_at=occurred_at,
    )


def tally_for(session: Session, customer: Customer) -> Tally:
    """The customer's positive and negative touches, as kept on the customer."""
    return Tally(int(customer.positive_touches or 0), int(customer.negative_touches or 0))
