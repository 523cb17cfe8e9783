"""The delivery worker: runs the timed jobs, then claims due outbox email, sends it, records it.

Each message goes through three short transactions, never holding a lock
while talking to SendGrid:

1. claim: due rows (`pending` and due, or `sending` whose lease ran out
   because a worker died) are locked `FOR UPDATE SKIP LOCKED`, marked
   `sending` with `claimed_until = now + LEASE` and `claimed_by = <worker>`,
   and committed, a batch at a time;
2. prepare: the worker checks it still holds the claim (renewing the lease),
   renders the email (minting its personal token) and commits, so a link
   never points at a token that was rolled back;
3. send, outside any transaction, then record the outcome: `sent`; `pending`
   again with exponential backoff and jitter for temporary failures; `failed`
   with the reason for permanent ones or when the retries run out.

Several workers can run at once on PostgreSQL: SKIP LOCKED hands each row to
one of them. On SQLite the database's write lock serialises the claims.
Nothing is ever deleted; a worker killed mid-batch leaves its rows `sending`
and another worker takes them over when the lease expires.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from surveys import clock
from surveys.db import db
from surveys.mail.render import EMAIL_TEMPLATES, CancelDelivery, build_email
from surveys.mail.senders import OutgoingEmail, PermanentFailure, Sender, TemporaryFailure
from surveys.models import OutboxMessage
from surveys.services.timed_work import timed_jobs

log = logging.getLogger(__name__)

# How long a claim protects a message from other workers. Renewed just before
# each send, so it only has to outlast one render and one (time-limited) request.
LEASE = timedelta(minutes=5)
BATCH_SIZE = 50
IDLE_SECONDS = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: ~1, 2, 4 … minutes, at most an hour, 12 tries."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 12

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt."""
        seconds = min(self.cap_seconds, self.base_seconds * 2**attempts)
        # Jitter spreads the retries of messages that failed together (one
        # outage) so they do not all come back in the same second.
        seconds *= random.uniform(0.5, 1.0)
        if retry_after is not None:  # the provider asked for at least this long
            seconds = max(seconds, min(retry_after, self.cap_seconds))
        return timedelta(seconds=seconds)


@dataclass
class PassReport:
    """What one pass did, for the worker's one line of output."""

    outcomes: Counter = field(default_factory=Counter)
    jobs: Counter = field(default_factory=Counter)

    def did_work(self) -> bool:
        return any(self.outcomes.values()) or any(self.jobs.values())

    def summary(self) -> str:
        parts = [f"{name} {self.outcomes[name]}" for name in ("sent", "retrying", "failed")]
        parts += [
            f"{name} {self.outcomes[name]}"
            for name in ("cancelled", "skipped")
            if self.outcomes[name]
        ]
        parts += [f"{name} {count}" for name, count in self.jobs.items() if count]
        return ", ".join(parts)


class Worker:
    """Delivers the outbox through one sender; use inside an app context."""

    def __init__(
        self,
        sender: Sender,
        *,
        policy: RetryPolicy | None = None,
        lease: timedelta = LEASE,
        batch_size: int = BATCH_SIZE,
        worker_id: str | None = None,
    ) -> None:
        self.sender = sender
        self.policy = policy or RetryPolicy()
        self.lease = lease
        self.batch_size = batch_size
        self.worker_id = (
            worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        )[:64]
        self._stopping = threading.Event()

    # --- running -----------------------------------------------------------------

    def stop(self) -> None:
        """Finish the message in hand, hand back the rest of the batch, and return."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run_forever(self, echo: Callable[[str], None], idle_seconds: float = IDLE_SECONDS) -> None:
        """Pass after pass until stopped, waiting `idle_seconds` when nothing was due."""
        while not self.stopping:
            try:
                report = self.run_pass()
            except SQLAlchemyError:
                # The database went away for a moment: claims stay leased and
                # are picked up again, so waiting is all there is to do.
                log.exception("worker pass failed; trying again shortly")
                self._stopping.wait(5 * idle_seconds)
                continue
            if report.did_work():
                echo(report.summary())
            else:
                self._stopping.wait(idle_seconds)

    def run_pass(self) -> PassReport:
        """Run the timed jobs, then deliver every message due now."""
        report = PassReport()
        self.run_timed_jobs(report)
        while not self.stopping:
            batch = self.claim_batch()
            if not batch:
                break
            for position, message_id in enumerate(batch):
                if self.stopping:
                    self.release(batch[position:])
                    break
                report.outcomes[self.deliver(message_id)] += 1
        return report

    def run_timed_jobs(self, report: PassReport) -> None:
        """Each job in its own transaction: a failing job holds up neither the others nor mail."""
        for name, job in timed_jobs():
            if self.stopping:
                return
            with self._session() as session:
                try:
                    count = job(session, clock.now())
                    session.commit()
                except Exception:
                    session.rollback()
                    log.exception("timed job %s failed", name)
                    continue
            report.jobs[name] += count or 0

    # --- claiming ----------------------------------------------------------------

    def claim_batch(self) -> list[int]:
        """Lease up to `batch_size` due email messages to this worker."""
        now = clock.now()
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
        )
        with self._session() as session:
            ids = list(
                session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.channel == "email", due)
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(
                        status="sending", claimed_until=now + self.lease, claimed_by=self.worker_id
                    )
                )
            session.commit()
        return ids

    def release(self, message_ids: list[int]) -> None:
        """Hand back claimed messages we will not get to, for the next worker to take now."""
        if not message_ids:
            return
        with self._session() as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(message_ids),
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_by == self.worker_id,
                )
                .values(status="pending", claimed_until=None, claimed_by=None)
            )
            session.commit()

    # --- delivering --------------------------------------------------------------

    def deliver(self, message_id: int) -> str:
        """Deliver one claimed message; return sent, retrying, failed, cancelled or skipped."""
        try:
            email = self.prepare(message_id)
        except CancelDelivery:
            return "cancelled"
        except Exception as exc:
            # A bug or a missing row: keep the message and retry it, so a fix
            # deployed in time still sends it; the outbox page shows why.
            log.exception("could not prepare outbox message %s", message_id)
            return self.record_failure(
                message_id,
                TemporaryFailure(f"could not prepare the email: {_describe(exc)}"[:1000]),
            )
        if email is None:
            return "skipped"
        try:
            self.sender.send(email)
        except (TemporaryFailure, PermanentFailure) as failure:
            return self.record_failure(message_id, failure)
        except Exception as exc:
            log.exception("sender failed on outbox message %s", message_id)
            return self.record_failure(
                message_id, TemporaryFailure(f"the sender failed: {_describe(exc)}"[:1000])
            )
        return self.record_sent(message_id)

    def prepare(self, message_id: int) -> OutgoingEmail | None:
        """Render the message if this worker still holds it (None when it does not)."""
        now = clock.now()
        with self._session() as session:
            # Renewing our lease doubles as the check that nobody took the
            # message over while it waited in our batch.
            held = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_by == self.worker_id,
                )
                .values(claimed_until=now + self.lease)
            ).rowcount
            if not held:
                session.rollback()
                return None
            message = session.get(OutboxMessage, message_id)
            try:
                email = build_email(session, message, now=now)
            except CancelDelivery as cancel:
                message.status = "cancelled"
                message.last_error = cancel.reason
                _unclaim(message)
                session.commit()
                log.info("outbox message %s cancelled: %s", message_id, cancel.reason)
                raise
            session.commit()
            return email

    def record_sent(self, message_id: int) -> str:
        now = clock.now()
        with self._session() as session:
            message = session.get(OutboxMessage, message_id)
            message.status = "sent"
            message.sent_at = now
            message.attempts += 1
            _unclaim(message)
            spec = EMAIL_TEMPLATES.get(message.template)
            if spec is not None and spec.on_sent is not None:
                spec.on_sent(session, message, now)
            session.commit()
        return "sent"

    def record_failure(self, message_id: int, failure: TemporaryFailure | PermanentFailure) -> str:
        """Schedule a retry, or mark the message failed for good with the reason."""
        now = clock.now()
        with self._session() as session:
            message = session.get(OutboxMessage, message_id, with_for_update=True)
            if message.status != "sending" or message.claimed_by != self.worker_id:
                return "skipped"  # another worker took it over; its outcome counts
            message.attempts += 1
            _unclaim(message)
            retry = isinstance(failure, TemporaryFailure)
            if retry and message.attempts < self.policy.max_attempts:
                delay = self.policy.delay(message.attempts, failure.retry_after)
                message.status = "pending"
                message.next_attempt_at = now + delay
                message.last_error = failure.reason
                outcome = "retrying"
                log.warning(
                    "outbox message %s: %s; retrying in %d s",
                    message_id,
                    failure.reason,
                    delay.total_seconds(),
                )
            else:
                if isinstance(failure, TemporaryFailure):
                    reason = f"gave up after {message.attempts} attempts: {failure.reason}"
                else:
                    reason = failure.reason
                message.status = "failed"
                message.last_error = reason
                spec = EMAIL_TEMPLATES.get(message.template)
                if spec is not None and spec.on_failed is not None:
                    spec.on_failed(session, message, reason, now)
                outcome = "failed"
                log.warning("outbox message %s failed: %s", message_id, reason)
            session.commit()
        return outcome

    def _session(self) -> Session:
        return db.sessionmaker()


def _unclaim(message: OutboxMessage) -> None:
    message.claimed_until = None
    message.claimed_by = None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
