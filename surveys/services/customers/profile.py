"""A customer as the people who look after them see them: the profile and personal notes.

An owner sees their own customers (the ones whose account owner they are, or
whose cases they own); admins see everyone. What a customer told us about
themselves (the `preferences` answers) and what owners noted ("daughter
graduates in June") sit beside every case, so that a reply can be personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
from surveys.services.customers.touchpoints import Tally, tally_for, touchpoints_of

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


@dataclass(frozen=True)
class CustomerProfile:
    """Everything the profile page and the API's customer object show."""

    customer: Customer
    remembered: Remembered
    purchases: list[Purchase]
    surveys: list[Survey]
    cases: list[Case]
    touchpoints: list[Touchpoint]
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


def customer_profile(session: Session, customer: Customer) -> CustomerProfile:
    """Purchases, surveys and answers, what we remember, cases and touch points."""
    purchases = session.scalars(
        select(Purchase)
        .where(Purchase.customer_id == customer.id)
        .options(selectinload(Purchase.items))
        .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
    ).all()
    surveys = session.scalars(
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
    ).all()
    cases = session.scalars(
        select(Case)
        .where(Case.customer_id == customer.id)
        .options(selectinload(Case.owner), selectinload(Case.purchase))
        .order_by(Case.created_at.desc(), Case.id.desc())
    ).all()
    return CustomerProfile(
        customer=customer,
        remembered=remembered_about(session, customer),
        purchases=list(purchases),
        surveys=list(surveys),
        cases=list(cases),
        touchpoints=touchpoints_of(session, customer),
        tally=tally_for(session, customer),
    )


def add_customer_note(
    session: Session, customer: Customer, *, body: str, author: User, now: datetime
) -> CustomerNote:
    """Keep a personal detail about the customer, for everyone who looks after them."""
    body = (body or "").strip()
    if not body:
        raise CustomerNoteError("Write what you want everyone to remember.")
    if len(body) > MAX_NOTE_LENGTH:
        raise CustomerNoteError(f"Keep it under {MAX_NOTE_LENGTH} characters.")
    note = CustomerNote(customer_id=customer.id, author=author, body=body, created_at=now)
    session.add(note)
    session.flush()
    return note
