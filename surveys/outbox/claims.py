"""One worker's hold on outbox rows, email and webhooks alike: claim, renew, release, record.

A claim locks due rows `FOR UPDATE SKIP LOCKED` (`pending` and due, or
`sending` whose lease ran out because a worker died), marks them `sending`
with `claimed_until = now + lease` and `claimed_by = <worker>`, and commits,
in one statement. Several workers can run at once on PostgreSQL: SKIP LOCKED
hands each row to one of them. On SQLite the database's write lock
serialises the claims. A row is only renewed, handed back or recorded while
this worker still holds it; another worker that took it over counts it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session

from surveys import clock
from surveys.db import db
from surveys.mail.render import EMAIL_TEMPLATES
from surveys.mail.senders import DeliveryFailure, PermanentFailure, TemporaryFailure
from surveys.models import OutboxMessage
from surveys.models.outbox import OutboxStatus
from surveys.outbox.outcomes import mark_sent
from surveys.outbox.retry_policy import RetryPolicy

log = logging.getLogger(__name__)


class Claims:
    """The rows one worker holds under its lease, and what it records about them."""

    def __init__(self, worker_id: str, *, lease: timedelta, policy: RetryPolicy) -> None:
        self.worker_id = worker_id
        self.lease = lease
        self.policy = policy

    def claim(
        self,
        channel: str,
        limit: int,
        *,
        narrow: Callable[[Select], Select] | None = None,
    ) -> list[int]:
        """Lease up to `limit` due rows of `channel` to this worker, oldest due first.

        `narrow` adds to the query (the webhooks join their endpoint and skip
        paused ones, which then wait uncounted).
        """
        now = clock.now()
        due = or_(
            and_(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now
            ),
            and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until < now),
        )
        query = select(OutboxMessage.id).where(OutboxMessage.channel == channel, due)
        if narrow is not None:
            query = narrow(query)
        with db.sessionmaker() as session:
            ids = list(
                session.scalars(
                    query.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True, of=OutboxMessage)
                )
            )
            if ids:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(
                        status=OutboxStatus.SENDING,
                        claimed_until=now + self.lease,
                        claimed_by=self.worker_id,
                    ),
                    execution_options={"synchronize_session": False},
                )
            session.commit()
        return ids

    def renew(self, session: Session, message_ids: list[int], now: datetime) -> set[int]:
        """Extend our lease on these messages; return those we still hold."""
        return set(
            session.scalars(
                update(OutboxMessage)
                .where(*self._held(message_ids))
                .values(claimed_until=now + self.lease)
                .returning(OutboxMessage.id),
                execution_options={"synchronize_session": False},
            )
        )

    def release(self, message_ids: list[int]) -> None:
        """Hand back claimed messages we will not get to, for the next worker to take now."""
        if not message_ids:
            return
        with db.sessionmaker() as session:
            session.execute(
                update(OutboxMessage)
                .where(*self._held(message_ids))
                .values(status=OutboxStatus.PENDING, claimed_until=None, claimed_by=None),
                execution_options={"synchronize_session": False},
            )
            session.commit()

    def _held(self, message_ids: list[int]) -> tuple:
        """Those of these messages this worker still holds."""
        return (
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == self.worker_id,
        )

    def record_sent(self, message_ids: list[int]) -> int:
        """Mark accepted messages sent, in one statement, and run their templates' hooks."""
        with db.sessionmaker() as session:
            mark_sent(session, message_ids, clock.now())
            session.commit()
        return len(message_ids)

    def record_failures(
        self, message_ids: list[int], failure: TemporaryFailure | PermanentFailure
    ) -> Counter:
        """Schedule a retry, or mark each message failed for good with the reason."""
        now = clock.now()
        outcomes: Counter = Counter()
        with db.sessionmaker() as session:
            messages = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(message_ids))
                .order_by(OutboxMessage.id)
                .with_for_update()
            ).all()
            for message in messages:
                if message.status != OutboxStatus.SENDING or message.claimed_by != self.worker_id:
                    outcomes["skipped"] += 1  # another worker took it over; its outcome counts
                    continue
                outcomes[self._record_failure(session, message, failure, now)] += 1
            session.commit()
        return outcomes

    def _record_failure(
        self, session: Session, message: OutboxMessage, failure: DeliveryFailure, now: datetime
    ) -> str:
        message.attempts += 1
        unclaim(message)
        if isinstance(failure, TemporaryFailure) and message.attempts < self.policy.max_attempts:
            delay = self.policy.delay(message.attempts, failure.retry_after)
            message.status = OutboxStatus.PENDING
            message.next_attempt_at = now + delay
            message.last_error = failure.reason
            log.warning(
                "outbox message %s: %s; retrying in %d s",
                message.id,
                failure.reason,
                delay.total_seconds(),
            )
            return "retrying"
        if isinstance(failure, TemporaryFailure):
            reason = f"gave up after {message.attempts} attempts: {failure.reason}"
        else:
            reason = failure.reason
        message.status = OutboxStatus.FAILED
        message.last_error = reason
        spec = EMAIL_TEMPLATES.get(message.template)
        if spec is not None and spec.on_failed is not None:
            spec.on_failed(session, message, reason, now)
        log.warning("outbox message %s failed: %s", message.id, reason)
        return "failed"


def unclaim(message: OutboxMessage) -> None:
    """The message is no longer any worker's (it was recorded, cancelled or held back)."""
    message.claimed_until = None
    message.claimed_by = None
