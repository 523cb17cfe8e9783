"""One reminder, and no more: a gentle nudge for a survey still unanswered after a while.

The worker runs `queue_reminders` on every pass. A survey gets its reminder
`reminder_delay_hours` after it was sent (0 turns reminders off) when it is
still unanswered, its link still works and its customer can still be
written to. `Survey.reminder_sent_at` is stamped when the reminder is queued,
so it is never queued twice, even by two workers at once; the email itself
re-checks all of this when it is delivered and is cancelled if the reminder
became moot meanwhile (an answer, an unsubscribe, a bounce, expiry, a refund).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from surveys.models import Customer, OutboxMessage, Purchase, Survey
from surveys.models.outbox import OutboxStatus
from surveys.models.surveys import SurveyStatus
from surveys.services.settings import get_setting
from surveys.services.surveys.quiet_hours import outside_quiet_hours, quiet_hours

# Surveys handled per pass: a backlog is worked through over a few passes
# rather than in one long transaction.
BATCH = 1000


def due_for_a_reminder(now: datetime, delay: timedelta):
    """The surveys whose reminder is due now (a query of their ids)."""
    return (
        select(Survey.id)
        .join(Customer, Customer.id == Survey.customer_id)
        # A refunded or cancelled order's survey may still be answered, but is not pressed.
        .outerjoin(Purchase, Purchase.id == Survey.purchase_id)
        .where(
            Survey.status == SurveyStatus.SENT,
            Survey.reminder_sent_at.is_(None),
            Survey.sent_at <= now - delay,
            Survey.expires_at > now,
            Customer.suppressed_at.is_(None),
            Customer.erased_at.is_(None),
            Purchase.cancelled_at.is_(None),
        )
    )


def queue_reminders(session: Session, now: datetime) -> int:
    """Queue the one reminder of every survey due for it; return how many were queued."""
    hours = int(get_setting(session, "reminder_delay_hours"))
    if hours <= 0:
        return 0
    candidates = (
        due_for_a_reminder(now, timedelta(hours=hours))
        .order_by(Survey.sent_at, Survey.id)
        .limit(BATCH)
        .with_for_update(of=Survey, skip_locked=True)
        .scalar_subquery()
    )
    # Claimed by the stamp itself: a survey another worker stamped first no
    # longer matches `reminder_sent_at IS NULL` and is not returned here.
    claimed = session.execute(
        update(Survey)
        .where(Survey.id.in_(candidates), Survey.reminder_sent_at.is_(None))
        .values(reminder_sent_at=now)
        .returning(Survey.id, Survey.customer_id),
        execution_options={"synchronize_session": False},
    ).all()
    if not claimed:
        return 0
    customers = {
        customer.id: customer
        for customer in session.scalars(
            select(Customer).where(Customer.id.in_({customer_id for _, customer_id in claimed}))
        )
    }
    start, end = quiet_hours(session)
    session.execute(
        insert(OutboxMessage),
        [
            {
                "channel": "email",
                "template": "reminder",
                "to_email": customers[customer_id].email,
                "to_name": customers[customer_id].name,
                "customer_id": customer_id,
                "survey_id": survey_id,
                "context": {},
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": outside_quiet_hours(
                    now, customers[customer_id].timezone, start=start, end=end
                ),
                "created_at": now,
            }
            for survey_id, customer_id in claimed
        ],
    )
    session.flush()
    return len(claimed)
