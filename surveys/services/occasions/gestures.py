"""Pleasant surprises and service heroics: gestures owners make, within a monthly allowance.

A gesture (a handwritten card, an upgrade, a gift, a call just to check in, going beyond
what was asked) is a positive touch credited to the owner who made it. Made for a case,
it is service heroics and shows on the case's timeline; otherwise it is a pleasant
surprise. What it cost counts against the owner's monthly allowance, set by an admin:
that allowance is their authority to act without asking anyone. An owner cannot record
a gesture that costs more than is left this month; an admin can (they set allowances).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import format_currency
from flask_babel import gettext as _
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Case, Customer, Gesture, User
from surveys.services.cases.timeline import record_event
from surveys.services.customers.ledger import record_service_touch
from surveys.services.settings import get_setting
from surveys.validation.text import unstorable_text_reason


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "translate later"
    return message


# In English, as the ledger and the case's timeline keep them; `kind_words` says them in the
# reader's language.
KINDS = {
    "card": N_("A handwritten card"),
    "upgrade": N_("An upgrade"),
    "gift": N_("A gift"),
    "call": N_("A call, just to check in"),
    "beyond": N_("Going beyond what was asked"),
}
MAX_NOTE_LENGTH = 2000
MAX_COST = Decimal("999999999999.99")
CENT = Decimal("0.01")
# The touch point's kind in the customer's ledger.
TOUCH_KIND = "gesture"


class GestureError(ValueError):
    """A gesture that cannot be recorded; `errors` maps each field at fault to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field} {why}" for field, why in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Allowance:
    """An owner's gesture allowance this month: None when no admin has set one."""

    monthly: Decimal | None
    spent: Decimal
    currency: str

    @property
    def left(self) -> Decimal:
        if self.monthly is None:
            return Decimal("0.00")
        return max(Decimal("0.00"), self.monthly - self.spent).quantize(CENT)


def month_start(now: datetime) -> datetime:
    """The first moment of this calendar month (UTC): allowances start again then."""
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def allowance_of(session: Session, user: User, *, now: datetime) -> Allowance:
    """What `user` may spend on gestures this month, and what they spent."""
    spent = session.scalar(
        select(func.coalesce(func.sum(Gesture.cost), 0)).where(
            Gesture.owner_id == user.id, Gesture.created_at >= month_start(now)
        )
    )
    return Allowance(user.monthly_gesture_allowance, Decimal(spent or 0), shop_currency(session))


def shop_currency(session: Session) -> str:
    return str(get_setting(session, "shop_currency"))


def read_cost(text: str | None) -> Decimal | None:
    """A cost as typed ("12.50", "12,50"); None when blank. GestureError when not an amount."""
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        cost = Decimal(text)
    except InvalidOperation:
        raise GestureError({"cost": _("Give the cost as an amount, like 12.50.")}) from None
    if (
        not cost.is_finite()
        or cost < 0
        or cost > MAX_COST
        or cost != cost.quantize(Decimal("0.01"))
    ):
        raise GestureError({"cost": _("Give the cost as an amount, like 12.50.")})
    return cost.quantize(CENT)


def check_gesture(
    session: Session,
    *,
    kind: str | None,
    by_user: User,
    now: datetime,
    cost: Decimal | None = None,
    note: str | None = None,
) -> None:
    """Whether the gesture may be recorded: GestureError naming `kind`, `cost` or `note`.

    Over the allowance, `cost` says how much is left and who can raise it. The owner's
    row is locked first, so two gestures recorded at once cannot both fit what is left.
    """
    errors = {}
    if kind not in KINDS:
        errors["kind"] = _("Choose what you did.")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        errors["note"] = _("Keep it under %(max)d characters.", max=MAX_NOTE_LENGTH)
    elif note is not None and (reason := unstorable_text_reason(note, multiline=True)):
        errors["note"] = f"This field {reason}."
    if cost is not None and (not cost.is_finite() or cost < 0 or cost > MAX_COST):
        errors["cost"] = _("Give the cost as an amount, like 12.50.")
    if errors:
        raise GestureError(errors)
    if cost and not by_user.is_admin:
        session.execute(select(User.id).where(User.id == by_user.id).with_for_update())
        allowance = allowance_of(session, by_user, now=now)
        if cost > allowance.left:
            raise GestureError({"cost": over_allowance_message(allowance, cost)})


def record_gesture(
    session: Session,
    *,
    customer: Customer,
    kind: str,
    by_user: User,
    now: datetime,
    cost: Decimal | None = None,
    note: str | None = None,
    case: Case | None = None,
) -> Gesture:
    """Record a gesture for the customer, credited to `by_user`, as a positive touch.

    Checked first by `check_gesture` (GestureError, and nothing written).
    """
    if customer.erased_at is not None:
        raise GestureError({"kind": _("This customer's data was erased: nothing more is kept.")})
    check_gesture(session, kind=kind, by_user=by_user, now=now, cost=cost, note=note)
    note = (note or "").strip() or None
    currency = shop_currency(session)
    words = KINDS[kind] + (f" ({cost} {currency})" if cost else "") + (f": {note}" if note else "")
    # Its polarity is the ledger's to give (surveys.services.customers.ledger).
    touch = record_service_touch(
        session,
        customer=customer,
        kind=TOUCH_KIND,
        now=now,
        note=words[:MAX_NOTE_LENGTH],
        case=case,
    )
    gesture = Gesture(
        customer_id=customer.id,
        case_id=case.id if case else None,
        owner_id=by_user.id,
        touchpoint_id=touch.id,
        kind=kind,
        cost=cost,
        currency=currency if cost else None,
        note=note,
        created_at=now,
    )
    session.add(gesture)
    if case is not None:
        record_event(
            session,
            case,
            "gesture",
            now=now,
            by_user=by_user,
            body=words,
            data={"kind": kind, "cost": str(cost) if cost else None, "currency": currency},
        )
    session.flush()
    return gesture


def over_allowance_message(allowance: Allowance, cost: Decimal) -> str:
    """Why a gesture is refused: what is left this month, and who can raise the allowance."""
    if allowance.monthly is None:
        return _(
            "You have no gesture allowance yet, so a gesture that costs %(cost)s needs an admin: "
            "ask one to set your allowance on the Users page.",
            cost=format_currency(cost, allowance.currency),
        )
    return _(
        "That is more than you have left this month: %(left)s of %(monthly)s. An admin can raise "
        "your allowance on the Users page, or record this gesture for you.",
        left=format_currency(allowance.left, allowance.currency),
        monthly=format_currency(allowance.monthly, allowance.currency),
    )


def kind_words(kind: str) -> str:
    """A gesture's kind in the reader's language ("A handwritten card"), or the kind itself."""
    return _(KINDS[kind]) if kind in KINDS else kind


def gestures_of(session: Session, customer: Customer, *, limit: int = 20) -> list[Gesture]:
    """The customer's gestures, newest first."""
    return list(
        session.scalars(
            select(Gesture)
            .where(Gesture.customer_id == customer.id)
            .order_by(Gesture.created_at.desc(), Gesture.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class OwnerGestures:
    owner: User
    surprises: int
    heroics: int
    spent: Decimal


def gestures_by_owner(session: Session, *, since: datetime) -> list[OwnerGestures]:
    """Per owner since `since`: pleasant surprises, service heroics (on a case), and the cost."""
    rows = session.execute(
        select(
            Gesture.owner_id,
            func.sum(sql_case((Gesture.case_id.is_(None), 1), else_=0)),
            func.sum(sql_case((Gesture.case_id.is_not(None), 1), else_=0)),
            func.coalesce(func.sum(Gesture.cost), 0),
        )
        .where(Gesture.created_at >= since)
        .group_by(Gesture.owner_id)
    ).all()
    owners = {
        user.id: user
        for user in session.scalars(select(User).where(User.id.in_({row[0] for row in rows})))
    }
    tallies = [
        OwnerGestures(owners[owner_id], int(surprises), int(heroics), Decimal(spent).quantize(CENT))
        for owner_id, surprises, heroics, spent in rows
    ]
    return sorted(tallies, key=lambda t: (-(t.surprises + t.heroics), t.owner.name))


def set_allowance(session: Session, user: User, amount: Decimal | None) -> None:
    """An admin sets what `user` may spend on gestures each month (None: no allowance)."""
    if amount is not None and (not amount.is_finite() or amount < 0 or amount > MAX_COST):
        raise GestureError({"allowance": _("Give an amount, like 50, or leave it empty.")})
    user.monthly_gesture_allowance = amount
    session.flush()
