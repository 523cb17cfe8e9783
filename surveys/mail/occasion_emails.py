"""The owner's reminder of a date that matters to their customer, a few days before it.

Queued by `surveys.services.occasions.reminders`; it tells what we know of the customer
(their notes, their last purchase, their own words) and suggests a gesture.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.mail.registry import CancelDelivery, email_template
from surveys.models import (
    Customer,
    CustomerNote,
    CustomerPreference,
    OutboxMessage,
    Purchase,
    RememberedDate,
)
from surveys.services.occasions.dates import describe, suggested_gesture

# How much of what we know goes into one email: enough to write a personal line.
KNOWN_ITEMS = 3


@email_template("date_coming_up", to_customer=False)
def date_coming_up_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """A date of the customer's is coming up: what it is, what we know, what to do."""
    context = message.context or {}
    remembered = session.get(RememberedDate, context.get("date_id") or 0)
    if remembered is None:
        raise CancelDelivery("the date was removed")
    customer = session.get(Customer, remembered.customer_id)
    if customer is None or customer.erased_at is not None:
        raise CancelDelivery("the customer's data was erased")
    occurs_on = date.fromisoformat(context.get("occurs_on") or now.date().isoformat())
    _kind, gesture = suggested_gesture(remembered.label)
    return {
        "customer": customer,
        "occasion": remembered.label,
        "occurs_on": occurs_on,
        "when_words": describe(remembered),
        "days_away": max(0, (occurs_on - now.date()).days),
        "notes": [
            body
            for body in session.scalars(
                select(CustomerNote.body)
                .where(CustomerNote.customer_id == customer.id)
                .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc())
                .limit(KNOWN_ITEMS)
            )
        ],
        "their_words": [
            body
            for body in session.scalars(
                select(CustomerPreference.body)
                .where(CustomerPreference.customer_id == customer.id)
                .order_by(CustomerPreference.created_at.desc(), CustomerPreference.id.desc())
                .limit(KNOWN_ITEMS)
            )
        ],
        "last_purchase": session.scalar(
            select(Purchase)
            .where(Purchase.customer_id == customer.id)
            .order_by(Purchase.purchased_at.desc(), Purchase.id.desc())
            .limit(1)
        ),
        "gesture": gesture,
        "profile_url": external_url("inbox.show_customer", customer_id=customer.id),
    }
