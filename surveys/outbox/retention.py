"""Outbox retention: delivered mail and webhooks are kept for a while, then deleted.

Every email and webhook ever sent was kept, so the outbox only grew. The worker
now deletes the rows that are done with, `outbox_retention_days` (a setting,
90 by default) after they finished:

- `sent` rows, counted from `sent_at`;
- `cancelled` rows, which record no moment of cancelling, counted from
  `next_attempt_at` (when they were due to go): never sooner than that many days
  after they were written.

Failed, pending and sending rows are never deleted: they wait for an admin or
for delivery. What the dashboard reports about mail is counted from the surveys
(stamped when sent, opened, clicked) and SendGrid's events, never from outbox
rows, so it reads the same before and after; SendGrid's events are kept, their
link to the deleted row cleared first.

A pass deletes at most `BATCH` rows, in one statement, then the worker commits:
a backlog of years goes over many passes (the worker does not wait between
passes that did work), and no transaction holds many row locks for long. Rows
are chosen `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers share the
backlog without waiting for each other, and a row another transaction holds
(a SendGrid event being recorded against it) is left for a later pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from surveys.models import EmailEvent, OutboxMessage
from surveys.models.outbox import OutboxStatus
from surveys.services.settings import get_setting

# Rows deleted per pass and statement.
BATCH = 1000


def delete_old_delivered_messages(session: Session, now: datetime) -> int:
    """Delete up to BATCH sent and cancelled outbox rows older than the retention; how many."""
    cutoff = now - timedelta(days=int(get_setting(session, "outbox_retention_days")))
    ids = _old_ids(session, OutboxStatus.SENT, OutboxMessage.sent_at, cutoff, BATCH)
    if len(ids) < BATCH:
        ids += _old_ids(
            session, OutboxStatus.CANCELLED, OutboxMessage.next_attempt_at, cutoff, BATCH - len(ids)
        )
    if not ids:
        return 0
    # SendGrid's events outlive the message they were about: keep them, unlinked.
    session.execute(
        update(EmailEvent)
        .where(EmailEvent.outbox_message_id.in_(ids))
        .values(outbox_message_id=None),
        execution_options={"synchronize_session": False},
    )
    deleted = session.execute(
        delete(OutboxMessage).where(OutboxMessage.id.in_(ids)),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.flush()
    return deleted


def _old_ids(session: Session, status: str, moment, cutoff: datetime, limit: int) -> list[int]:
    """Up to `limit` ids of rows in `status` whose `moment` is before the cutoff, oldest first.

    Served by the indexes on (status, sent_at) and (status, next_attempt_at): the
    query reads the rows it returns, never the whole outbox.
    """
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == status, moment < cutoff)
            .order_by(moment)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
