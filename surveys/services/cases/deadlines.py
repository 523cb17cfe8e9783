"""The owner's deadlines on a case: which one applies next, and escalating each one missed.

A case waiting for an owner has no deadline to miss (and nobody to escalate
to): its deadlines start when it is given one (see `surveys.services.cases.opening`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Case, User
from surveys.models.cases import CaseStatus
from surveys.outbox.enqueue import enqueue_email_to_user
from surveys.services.cases.timeline import record_event
from surveys.services.chat_channels.notify import notify_overdue

BREACHES = ("acknowledge", "resolve")


@dataclass(frozen=True)
class Deadline:
    """What the owner has to do next on a case, and by when."""

    action: str
    due_at: datetime

    def is_overdue(self, now: datetime) -> bool:
        return now > self.due_at


def next_deadline(case: Case) -> Deadline | None:
    """The deadline that applies in the case's status; None once it waits on the customer,
    and while it waits for an owner (the deadlines start when it has one)."""
    if case.owner_id is None:
        return None
    if case.status == CaseStatus.OPEN:
        return Deadline("Acknowledge", case.acknowledge_by)
    if case.status == CaseStatus.ACKNOWLEDGED:
        return Deadline("Resolve", case.resolve_by)
    return None


def escalate_overdue_cases(session: Session, now: datetime) -> int:
    """Email the owner and every admin about each missed deadline, once per breach.

    A case waiting for an owner has no deadline to miss (and nobody to escalate
    to): it is given one as soon as someone can take it.

    The stamp (`acknowledge_escalated_at` / `resolve_escalated_at`) is written in
    the transaction that queues the emails, and rows another worker holds are
    skipped, so however often and however many workers run, each breach is
    emailed once.
    """
    admins = list(
        session.scalars(
            select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id)
        )
    )
    escalated = 0
    for breach in BREACHES:
        for case in session.scalars(_breached(breach, now)).all():
            _escalate(session, case, breach=breach, admins=admins, now=now)
            escalated += 1
    return escalated


def _breached(breach: str, now: datetime):
    if breach == "acknowledge":
        conditions = (
            Case.owner_id.is_not(None),
            Case.status == CaseStatus.OPEN,
            Case.acknowledge_by < now,
            Case.acknowledge_escalated_at.is_(None),
        )
    else:
        conditions = (
            Case.owner_id.is_not(None),
            Case.status.in_((CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED)),
            Case.resolve_by < now,
            Case.resolve_escalated_at.is_(None),
        )
    return select(Case).where(*conditions).order_by(Case.id).with_for_update(skip_locked=True)


def _escalate(
    session: Session, case: Case, *, breach: str, admins: list[User], now: datetime
) -> None:
    if breach == "acknowledge":
        case.acknowledge_escalated_at = now
        due_at, missed = case.acknowledge_by, "acknowledged"
    else:
        case.resolve_escalated_at = now
        due_at, missed = case.resolve_by, "resolved"
    recipients = [case.owner, *[admin for admin in admins if admin.id != case.owner_id]]
    for person in recipients:
        enqueue_email_to_user(
            session, person, template="escalation", case=case, now=now, context={"breach": breach}
        )
    names = ", ".join(person.name for person in recipients)
    record_event(
        session,
        case,
        "escalated",
        now=now,
        body=f"Not {missed} by the deadline; emailed {names}.",
        data={
            "breach": breach,
            "due_at": due_at.isoformat(),
            "notified": [person.email for person in recipients],
        },
    )
    notify_overdue(session, case, missed=missed, now=now)
    # No touch point: a missed deadline is ours, not a contact with the customer (ledger).
