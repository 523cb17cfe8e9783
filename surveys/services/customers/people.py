"""People an integration names by address: survey them, or stop surveying them.

This is what the Delighted-compatible endpoints do (`POST /v1/people.json`,
`POST /v1/unsubscribes.json`), in our terms:

- a person posted with an order id is a purchase: it goes through
  `record_purchase`, so idempotency, throttle, suppression and the age limit
  are exactly the API's;
- a person posted without an order id is a manual survey request: the
  customer is created or updated and a `manual` survey of the purchase
  question set is scheduled, which the throttle and suppression still govern;
- unsubscribing an address suppresses it, creating the customer when the
  address is new to us, so that a later purchase is not surveyed either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Customer, Survey
from surveys.services.customers.unsubscribe import cancel_pending_surveys, unsubscribe_customer
from surveys.services.purchases import (
    CustomerInput,
    PurchaseInput,
    find_or_create_customer,
    record_purchase,
)
from surveys.services.question_sets.assignments import question_set_for_purchase
from surveys.services.surveys.scheduling import lock_customer, schedule_survey

API_UNSUBSCRIBE_REASON = "unsubscribed through the API"
WITHDRAWN_REASON = "the survey request was withdrawn through the API"


@dataclass(frozen=True)
class PersonInput:
    """A person to survey, already checked for shape by its parser."""

    email: str
    name: str | None = None
    order_id: str | None = None
    # BCP 47, normalised; the language of their survey (None keeps what we knew).
    locale: str | None = None
    # From now until the survey goes out; None means the usual: the configured
    # survey delay after a purchase, right away for a manual request.
    delay: timedelta | None = None
    send: bool = True
    # Delighted's custom properties other than the order id (text values).
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PersonResult:
    """The customer, and the survey decided for them (None when `send` was False without an
    order); `created` is False only for an order id we already had, where nothing changed."""

    customer: Customer
    survey: Survey | None
    created: bool


def send_to_person(
    session: Session, person: PersonInput, *, now: datetime, source: str = "delighted"
) -> PersonResult:
    """Record the person and decide their survey: about their order if given, else a manual one."""
    if person.order_id is not None:
        result = record_purchase(
            session,
            PurchaseInput(
                order_id=person.order_id,
                customer=CustomerInput(email=person.email, name=person.name, locale=person.locale),
                # Kept on the purchase; record_purchase refuses ones over the limits, naming
                # `properties.<name>`.
                properties=dict(person.properties) or None,
            ),
            now=now,
            source=source,
            survey_delay=person.delay,
            send_survey=person.send,
        )
        return PersonResult(
            customer=result.purchase.customer, survey=result.survey, created=result.created
        )

    customer, customer_is_new = find_or_create_customer(
        session, CustomerInput(email=person.email, name=person.name, locale=person.locale), now=now
    )
    if not person.send:
        return PersonResult(customer=customer, survey=None, created=True)
    survey = schedule_survey(
        session,
        customer=customer,
        kind="manual",
        question_set=question_set_for_purchase(session, None),
        now=now,
        send_at=now + (person.delay or timedelta(0)),
        customer_is_new=customer_is_new,
        customer_locked=True,  # by find_or_create_customer
    )
    return PersonResult(customer=customer, survey=survey, created=True)


def unsubscribe_address(session: Session, email: str, *, now: datetime) -> Customer:
    """Never survey this address again, whether or not it belongs to a customer yet."""
    customer, _ = find_or_create_customer(session, CustomerInput(email=email), now=now)
    unsubscribe_customer(session, customer, now=now, reason=API_UNSUBSCRIBE_REASON)
    return customer


def cancel_pending_requests(session: Session, email: str) -> int:
    """Cancel the surveys not yet sent to this address, and their waiting emails and reminders.

    What an integration does when an order is refunded: nothing more goes out for it,
    yet the address is not suppressed (a later purchase is surveyed as usual).
    Returns how many surveys were cancelled; an address we do not know has none.
    """
    customer = session.scalar(select(Customer).where(Customer.email == email))
    if customer is None:
        return 0
    lock_customer(session, customer)
    return cancel_pending_surveys(session, customer, reason=WITHDRAWN_REASON)
