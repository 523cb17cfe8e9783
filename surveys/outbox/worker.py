"""The delivery worker: runs the timed jobs, then claims due outbox email, sends it, records it.

Messages move a batch at a time (up to 1,000) through short transactions,
never holding a lock while talking to SendGrid:

1. claim: due rows are leased to this worker and committed, in one
   statement (`surveys.outbox.claims`, shared with the webhooks);
2. prepare: the worker renews its lease on the rows it still holds, loads
   what the emails show in a few queries, renders every email (minting each
   recipient's personal token, inserted together) and commits, so a link
   never points at a token that was rolled back;
3. send, outside any transaction, one request at a time as the sender groups
   them (SendGrid: up to 1,000 recipients sharing a body, each with their own
   substitutions and custom_args), then record that request's outcome in one
   transaction: `sent` for the recipients it accepted; `pending` again with
   exponential backoff and jitter for temporary failures (the request's own
   recipients only, so nobody accepted is sent twice; a request whose answer
   never came waits 5 minutes, see `surveys.outbox.outcomes`); `failed` with
   the reason for permanent ones or when the retries run out. While the
   database is away the outcome waits for it (`surveys.outbox.database_outage`).

Nothing is ever deleted; a worker killed mid-batch leaves its rows `sending`
and another worker takes them over when the lease expires (the request in
flight at that moment may then go twice: SendGrid has no idempotency key).

Webhooks out (`channel == "webhook"`) are delivered after the email of each
pass, one signed POST per row, by `surveys.outbox.webhook_delivery`.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from surveys import clock
from surveys.db import database_unreachable, db
from surveys.mail.render import (
    CancelDelivery,
    DeferDelivery,
    UnbuildableEmail,
    build_emails,
)
from surveys.mail.senders import (
    DeliveryFailure,
    OutgoingEmail,
    Sender,
    TemporaryFailure,
)
from surveys.models import OutboxMessage
from surveys.outbox.claims import Claims, unclaim
from surveys.outbox.database_outage import DatabaseOutage
from surveys.outbox.retry_policy import RetryPolicy
from surveys.outbox.webhook_delivery import WebhookDelivery
from surveys.services.timed_work import timed_jobs

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a claim protects a message from other workers. Renewed while a
# batch is being sent, so it only has to outlast one render and one
# (time-limited) request.
LEASE = timedelta(minutes=5)
# One claim: as many messages as SendGrid takes in one request.
BATCH_SIZE = 1000
IDLE_SECONDS = 1.0


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
            for name in ("cancelled", "deferred", "skipped")
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
        self.claims = Claims(self.worker_id, lease=lease, policy=self.policy)
        self._stopping = threading.Event()
        self.outage = DatabaseOutage(self._stopping)
        # Claimed, then cut short by a database outage before they were sent.
        self._interrupted: list[int] = []

    # --- running -----------------------------------------------------------------

    def stop(self) -> None:
        """Finish the request in hand, hand back the rest of the batch, and return."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run_forever(self, echo: Callable[[str], None], idle_seconds: float = IDLE_SECONDS) -> None:
        """Pass after pass until stopped, waiting `idle_seconds` when nothing was due."""
        while not self.stopping:
            try:
                self._resume_after_outage()
                report = self.run_pass()
            except SQLAlchemyError as exc:
                if database_unreachable(exc):
                    # Nothing to do but wait: what was claimed is handed back
                    # when it returns, what was sent has been recorded.
                    self.outage.wait(exc)
                    continue
                log.exception("worker pass failed; trying again shortly")
                self._stopping.wait(5 * idle_seconds)
                continue
            if report.did_work():
                echo(report.summary())
            else:
                self._stopping.wait(idle_seconds)

    def _resume_after_outage(self) -> None:
        """Once the database answers again, say so and hand back the batch it cut short."""
        if not self.outage.ongoing:
            return
        with self._session() as session:
            session.execute(select(1))
        self.outage.over()
        interrupted, self._interrupted = self._interrupted, []
        self.claims.release(interrupted)

    def run_pass(self) -> PassReport:
        """Run the timed jobs, then deliver every email and webhook due now."""
        report = PassReport()
        self.run_timed_jobs(report)
        while not self.stopping:
            batch = self.claims.claim("email", self.batch_size)
            if not batch:
                break
            self.deliver_batch(batch, report)
        report.outcomes.update(WebhookDelivery(self.claims, stopping=self._stopping).deliver_due())
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
                except Exception as exc:
                    session.rollback()
                    if database_unreachable(exc):
                        raise  # no job can run: the pass waits for the database
                    log.exception("timed job %s failed", name)
                    continue
            report.jobs[name] += count or 0

    # --- delivering --------------------------------------------------------------

    def deliver_batch(self, message_ids: list[int], report: PassReport) -> None:
        """Prepare the claimed messages, then send them request by request, recording each."""
        if self.stopping:
            self.claims.release(message_ids)
            return
        try:
            self._deliver_batch(message_ids, report)
        except SQLAlchemyError as exc:
            if database_unreachable(exc):
                # Recorded ones are no longer `sending`: releasing them all once
                # the database is back hands on only those never sent.
                self._interrupted += message_ids
            raise

    def _deliver_batch(self, message_ids: list[int], report: PassReport) -> None:
        prepared_at = clock.now()
        requests = self.sender.batches(self.prepare_batch(message_ids, report))
        lease_ends = prepared_at + self.lease
        for position, request in enumerate(requests):
            if self.stopping:
                self.claims.release(
                    [email.message_id for later in requests[position:] for email in later]
                )
                return
            if clock.now() >= lease_ends - self.lease / 2:
                # A slow provider: keep the rest of the batch ours before going on.
                lease_ends, request = self._keep_holding(request, requests[position + 1 :])
            report.outcomes.update(self.send_request(request))

    def _keep_holding(
        self, request: list[OutgoingEmail], later: list[list[OutgoingEmail]]
    ) -> tuple[datetime, list[OutgoingEmail]]:
        now = clock.now()
        with self._session() as session:
            held = self.claims.renew(
                session, [e.message_id for r in (request, *later) for e in r], now
            )
            session.commit()
        for other in later:
            other[:] = [email for email in other if email.message_id in held]
        return now + self.lease, [email for email in request if email.message_id in held]

    def prepare_batch(self, message_ids: list[int], report: PassReport) -> list[OutgoingEmail]:
        """Render the messages this worker still holds; cancelled and held ones are recorded."""
        try:
            emails, outcomes = self._prepare(message_ids)
        except UnbuildableEmail as error:
            # One message could not be rendered: the batch was rolled back, and
            # each message is prepared on its own so that only that one waits.
            log.warning(
                "outbox message %s: %s; preparing its batch one by one", error.message_id, error
            )
            emails, outcomes = [], Counter()
            for message_id in message_ids:
                try:
                    more, counted = self._prepare([message_id])
                except UnbuildableEmail as failed:
                    log.exception("could not prepare outbox message %s", message_id)
                    outcomes.update(
                        self.claims.record_failures([message_id], TemporaryFailure(str(failed)))
                    )
                    continue
                emails += more
                outcomes.update(counted)
        report.outcomes.update(outcomes)
        return emails

    def _prepare(self, message_ids: list[int]) -> tuple[list[OutgoingEmail], Counter]:
        now = clock.now()
        outcomes: Counter = Counter()
        emails: list[OutgoingEmail] = []
        with self._session() as session:
            held = self.claims.renew(session, message_ids, now)
            # Not held: another worker took them over; their outcome counts there.
            outcomes["skipped"] += len(message_ids) - len(held)
            messages = session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(held)).order_by(OutboxMessage.id)
            ).all()
            try:
                built = build_emails(session, list(messages), now=now)
            except UnbuildableEmail:
                session.rollback()
                raise
            for message in messages:
                result = built[message.id]
                if isinstance(result, CancelDelivery):
                    message.status, message.last_error = "cancelled", result.reason
                    unclaim(message)
                    outcomes["cancelled"] += 1
                    log.info("outbox message %s cancelled: %s", message.id, result.reason)
                elif isinstance(result, DeferDelivery):
                    # Held back, not failed: no attempt is counted.
                    message.status, message.next_attempt_at = "pending", result.until
                    unclaim(message)
                    outcomes["deferred"] += 1
                    log.info("outbox message %s waits: %s", message.id, result.reason)
                else:
                    emails.append(result)
            session.commit()
        return emails, outcomes

    def send_request(self, emails: list[OutgoingEmail]) -> Counter:
        """Send one request and record what became of each of its recipients."""
        if not emails:
            return Counter()
        try:
            failures = self.sender.send_batch(emails)
        except Exception as exc:
            log.exception("sender failed on outbox messages %s…", emails[0].message_id)
            failure = TemporaryFailure(f"the sender failed: {_describe(exc)}"[:1000])
            failures = {email.message_id: failure for email in emails}
        outcomes: Counter = Counter()
        accepted = [email.message_id for email in emails if email.message_id not in failures]
        if accepted:
            outcomes["sent"] += self._until_recorded(lambda: self.claims.record_sent(accepted))
        by_failure: dict[int, tuple[DeliveryFailure, list[int]]] = {}
        for message_id, failure in failures.items():
            by_failure.setdefault(id(failure), (failure, []))[1].append(message_id)
        for failure, message_ids in by_failure.values():
            outcomes.update(
                self._until_recorded(
                    lambda ids=message_ids, why=failure: self.claims.record_failures(ids, why)
                )
            )
        return outcomes

    def _until_recorded(self, record: Callable[[], T]) -> T:
        """Record a request's outcome, waiting out a database outage to do it.

        SendGrid already has the request: an outcome left unwritten would send
        its emails again once their lease ran out. Only a stop gives up.
        """
        while True:
            try:
                result = record()
            except SQLAlchemyError as exc:
                if database_unreachable(exc) and self.outage.wait(exc):
                    continue
                raise
            self.outage.over()
            return result

    def _session(self) -> Session:
        return db.sessionmaker()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
