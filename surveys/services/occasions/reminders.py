"""Reminding an owner of a date that matters to their customer, a few days before it.

The worker runs `queue_date_reminders` on every pass. It seeks the dates whose
`next_occurrence` falls within `date_reminder_days` (an index range, never the whole
table), claims them with FOR UPDATE SKIP LOCKED so that two workers never take the same
one, queues one email to the person who looks after the customer, and moves
`next_occurrence` on to the following year (or to none, for a one-off date) in the same
transaction. However often it runs, each occurrence is reminded of once. An occurrence
that passed while no worker ran is moved on without an email: a reminder after the day
helps nobody.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Customer, OutboxMessage, RememberedDate, User
from surveys.models.outbox import OutboxStatus
from surveys.services.occasions.dates import next_occurrence
from surveys.services.routing.decisions import NoOwnerAvailable, choose_owner
from surveys.services.settings import get_setting

BATCH = 500


def queue_date_reminders(session: Session, now: datetime) -> int:
    """Queue the reminders of the dates coming up; return how many were queued."""
    today = now.date()
    lead = int(get_setting(session, "date_reminder_days"))
    due = session.scalars(
        select(RememberedDate)
        .where(RememberedDate.next_occurrence <= today + timedelta(days=lead))
        .order_by(RememberedDate.next_occurrence, RememberedDate.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    queued = 0
    for remembered in due:
        occurrence = remembered.next_occurrence
        customer = session.get(Customer, remembered.customer_id)
        if occurrence >= today and customer.erased_at is None:
            recipient = reminder_recipient(session, customer)
            if recipient is None:
                continue  # nobody to tell yet: tried again on the next pass
            session.add(
                OutboxMessage(
                    channel="email",
                    template="date_coming_up",
                    to_email=recipient.email,
                    to_name=recipient.name,
                    customer_id=customer.id,
                    context={
                        "date_id": remembered.id,
                        "occurs_on": occurrence.isoformat(),
                        "user_id": recipient.id,
                    },
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            remembered.last_reminded_on = occurrence
            queued += 1
        # A one-off date is done with once its day came; a yearly one comes back.
        remembered.next_occurrence = (
            next_occurrence(
                day=remembered.day,
                month=remembered.month,
                year=remembered.year,
                yearly=True,
                on_or_after=max(occurrence, today) + timedelta(days=1),
            )
            if remembered.yearly
            else None
        )
    session.flush()
    return queued


def reminder_recipient(session: Session, customer: Customer) -> User | None:
    """The account owner; when they are gone or there is none, whoever routing would choose."""
    if customer.owner is not None and customer.owner.active:
        return customer.owner
    try:
        return choose_owner(session, customer=customer, purchase=None).owner
    except NoOwnerAvailable:
        return None
