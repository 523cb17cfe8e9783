"""A customer as the people who look after them see them: the profile and personal notes.

An owner sees their own customers (the ones whose account owner they are, or
whose cases they own); admins see everyone. What a customer told us about
themselves (the `preferences` answers) and what owners noted ("daughter
graduates in June") sit beside every case, so that a reply can be personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from surveys.models import (
    Answer,
    Case,
    Customer,
    CustomerNote,
    CustomerPreference,
    Purchase,
    Response,
    Survey,
    Touchpoint,
    User,
)
from surveys.services.customers.touchpoints import Tally, tally_for

MAX_NOTE_LENGTH = 2000


class CustomerNotFound(LookupError):
    """No such customer, or not one this user may see (both answer 404)."""


class CustomerNoteError(ValueError):
    """A personal note that cannot be kept; the message says why."""


@dataclass(frozen=True)
class Remembered:
    """What we keep in mind about a customer: their own words, and the owners' notes."""

    preferences: list[CustomerPreference]
    notes: list[CustomerNote]

    def __bool__(self) -> bool:
        return bool(self.preferences or self.notes)


# How many of each of a customer's histories one page of the profile holds: enough to read,
# few enough that the page stays small and quick however long the customer has been with us.
PAGE_SIZES = {"touches": 25, "surveys": 10, "cases": 20, "purchases": 20}


@dataclass(frozen=True)
class Page:
    """One page of a history, newest first; iterating it gives its items."""

    items: list
    number: int
    has_next: bool

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _page(session: Session, query, *, section: str, number: int) -> Page:
    """The `number`th page of `query` (1 is the newest); one row more tells if there is a next."""
    size = PAGE_SIZES[section]
    number = max(1, number)
    rows = list(session.scalars(query.offset((number - 1) * size).limit(size + 1)))
    return Page(rows[:size], number, len(rows) > size)


@dataclass(frozen=True)
class CustomerProfile:
    """Everything the profile page and the API's customer object show."""

    customer: Customer
    remembered: Remembered
    purchases: Page
    surveys: Page
    cases: Page
    touchpoints: Page
    tally: Tally


def find_customer_by_email(session: Session, email: str) -> Customer | None:
    """The customer with this address, whatever its letter case, or None."""
    email = (email or "").strip().lower()
    if not email:
        return None
    return session.scalar(select(Customer).where(func.lower(Customer.email) == email))


def may_see_customer(session: Session, user: User, customer: Customer) -> bool:
    """Admins see everyone; an owner sees customers they are account owner of or own a case of."""
    if user.is_admin or customer.owner_id == user.id:
        return True
    return bool(
        session.scalar(
            select(exists().where(Case.customer_id == customer.id, Case.owner_id == user.id))
        )
    )


def get_customer_for(session: Session, user: User, customer_id: int) -> Customer:
    """The customer, if this user may see them; CustomerNotFound otherwise."""
    customer = session.get(Customer, customer_id)
    if customer is None or not may_see_customer(session, user, customer):
        # The same answer as for nobody at all: no hint that the customer exists.
        raise CustomerNotFound(f"There is no customer {customer_id}.")
    return customer


def remembered_about(session: Session, customer: Customer) -> Remembered:
    """The customer's stated preferences and the owners' personal notes, newest first."""
    preferences = session.scalars(
        select(CustomerPreference)
        .where(CustomerPreference.customer_id == customer.id)
        .order_by(CustomerPreference.created_at.desc(), CustomerPreference.id.desc())
    ).all()
    notes = session.scalars(
        select(CustomerNote)
        .where(CustomerNote.customer_id == customer.id)
        .options(selectinload(CustomerNote.author))
        .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc())
    ).all()
    return Remembered(list(preferences), list(notes))


def customer_profile(
    session: Session, customer: Customer, *, pages: dict[str, int] | None = None
) -> CustomerProfile:
    """Purchases, surveys and answers, what we remember, cases and touch points.

    Each history is one page (`pages` maps "touches", "surveys", "cases" and
    "purchases" to a page number; the first, newest, by default).
    """
    pages = pages or {}
    purchases = (
        select(Purchase)
        .where(Purchase.customer_id == customer.id)
        .options(selectinload(Purchase.items))
        .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
    )
    surveys = (
        select(Survey)
        .where(Survey.customer_id == customer.id)
        .options(
            selectinload(Survey.question_set),
            selectinload(Survey.purchase),
            selectinload(Survey.response)
            .selectinload(Response.answers)
            .selectinload(Answer.question),
        )
        .order_by(Survey.created_at.desc(), Survey.id.desc())
    )
    cases = (
        select(Case)
        .where(Case.customer_id == customer.id)
        .options(selectinload(Case.owner), selectinload(Case.purchase))
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
    touches = (
        select(Touchpoint)
        .where(Touchpoint.customer_id == customer.id)
        .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc())
    )
    return CustomerProfile(
        customer=customer,
        remembered=remembered_about(session, customer),
        purchases=_page(session, purchases, section="purchases", number=pages.get("purchases", 1)),
        surveys=_page(session, surveys, section="surveys", number=pages.get("surveys", 1)),
        cases=_page(session, cases, section="cases", number=pages.get("cases", 1)),
        touchpoints=_page(session, touches, section="touches", number=pages.get("touches", 1)),
        tally=tally_for(session, customer),
    )


def add_customer_note(
    session: Session, customer: Customer, *, body: str, author: User, now: datetime
) -> CustomerNote:
    """Keep a personal detail about the customer, for everyone who looks after them."""
    body = (body or "").strip()
    if not body:
        raise CustomerNoteError(_("Write what you want everyone to remember."))
    if len(body) > MAX_NOTE_LENGTH:
        raise CustomerNoteError(_("Keep it under %(max)d characters.", max=MAX_NOTE_LENGTH))
    note = CustomerNote(customer_id=customer.id, author=author, body=body, created_at=now)
    session.add(note)
    session.flush()
    return note
