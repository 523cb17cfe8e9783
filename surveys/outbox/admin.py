"""The outbox as admins see it: what waits, what failed and why; retry and cancel.

Retrying and cancelling are admin changes: each writes an audit entry with the
message's state before and after, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from surveys.models import Customer, OutboxMessage, Survey, User
from surveys.models.outbox import OutboxStatus
from surveys.models.surveys import SurveyStatus
from surveys.services.audit import record_admin_change
from surveys.services.paging import shown_page

# The page's views of the outbox. "waiting" is what needs an eye: failed,
# retrying, pending and being sent. "retrying" is pending after a failed try.
VIEWS = ("waiting", "failed", "retrying", "pending", "sending", "cancelled", "sent")
PAGE_SIZE = 50
# Templates that ask the customer something: never sent to a suppressed address.
ASKING_TEMPLATES = ("survey", "reminder")


class MessageNotFound(LookupError):
    """No outbox message has this id."""


class OutboxActionRefused(Exception):
    """The message is not in a state this action applies to; the message says why."""


# Why a message cannot be retried or cancelled, by its state: whole sentences, so each language
# words the state its own way.
NOT_RETRIED = {
    "pending": _l("Only a failed message can be retried; this one is pending."),
    "sending": _l("Only a failed message can be retried; this one is being sent right now."),
    "sent": _l("Only a failed message can be retried; this one is already sent."),
    "cancelled": _l("Only a failed message can be retried; this one is already cancelled."),
}
NOT_CANCELLED = {
    "failed": _l("Only a message waiting to be sent can be cancelled; this one is failed."),
    "sending": _l(
        "Only a message waiting to be sent can be cancelled; this one is being sent right now."
    ),
    "sent": _l("Only a message waiting to be sent can be cancelled; this one is already sent."),
    "cancelled": _l(
        "Only a message waiting to be sent can be cancelled; this one is already cancelled."
    ),
}


@dataclass(frozen=True)
class OutboxRow:
    message: OutboxMessage
    customer: Customer | None

    @property
    def retrying(self) -> bool:
        return self.message.retrying

    @property
    def shown_status(self) -> str:
        return self.message.shown_status


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    view: str
    page: int
    has_next: bool
    total: int


def outbox_counts(session: Session) -> dict[str, int]:
    """How many messages are in each state (pending and retrying apart), in one query."""
    counts = dict.fromkeys(VIEWS[1:], 0)
    tried = (OutboxMessage.attempts > 0).label("tried")
    rows = session.execute(
        select(OutboxMessage.status, tried, func.count(OutboxMessage.id)).group_by(
            OutboxMessage.status, tried
        )
    ).all()
    for status, tried, count in rows:
        key = "retrying" if status == OutboxStatus.PENDING and tried else status
        counts[key] = counts.get(key, 0) + count
    counts["waiting"] = sum(counts[key] for key in ("failed", "retrying", "pending", "sending"))
    return counts


def _view_condition(view: str):
    status, attempts = OutboxMessage.status, OutboxMessage.attempts
    return {
        "waiting": status.in_((OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.SENDING)),
        "retrying": (status == OutboxStatus.PENDING) & (attempts > 0),
        "pending": (status == OutboxStatus.PENDING) & (attempts == 0),
    }.get(view, status == view)


def list_messages(
    session: Session, *, view: str = "waiting", page: int = 1, per_page: int = PAGE_SIZE
) -> OutboxPage:
    """One page of messages in a view, failed first, then by their next try."""
    if view not in VIEWS:
        view = "waiting"
    condition = _view_condition(view)
    total = session.scalar(select(func.count(OutboxMessage.id)).where(condition)) or 0
    page = shown_page(page, total=total, per_page=per_page)
    urgency = case(
        (OutboxMessage.status == OutboxStatus.FAILED, 0),
        (OutboxMessage.attempts > 0, 1),
        (OutboxMessage.status == OutboxStatus.SENDING, 2),
        else_=3,
    )
    order = (
        (OutboxMessage.sent_at.desc(),)
        if view == "sent"
        else (urgency, OutboxMessage.next_attempt_at, OutboxMessage.id)
    )
    found = session.execute(
        select(OutboxMessage, Customer)
        .outerjoin(Customer, Customer.id == OutboxMessage.customer_id)
        .where(condition)
        .order_by(*order, OutboxMessage.id)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    rows = [OutboxRow(message, customer) for message, customer in found[:per_page]]
    return OutboxPage(rows=rows, view=view, page=page, has_next=len(found) > per_page, total=total)


def recently_suppressed(session: Session, *, limit: int = 20) -> list[Customer]:
    """Addresses we no longer survey, newest first, with why."""
    return list(
        session.scalars(
            select(Customer)
            .where(Customer.suppressed_at.is_not(None))
            .order_by(Customer.suppressed_at.desc(), Customer.id.desc())
            .limit(limit)
        )
    )


def retry_message(
    session: Session, message_id: int, *, actor: User, now: datetime
) -> OutboxMessage:
    """Put a failed message back in the queue, due now, with a fresh set of attempts."""
    message = _locked(session, message_id)
    if message.status != OutboxStatus.FAILED:
        raise OutboxActionRefused(str(NOT_RETRIED[message.status]))
    customer = session.get(Customer, message.customer_id) if message.customer_id else None
    if (
        message.template in ASKING_TEMPLATES
        and customer is not None
        and customer.suppressed_at is not None
    ):
        raise OutboxActionRefused(_suppressed(customer))
    before = _snapshot(message)
    message.status, message.attempts, message.next_attempt_at = "pending", 0, now
    message.claimed_until = message.claimed_by = None
    if message.template == "survey" and message.survey_id is not None:
        # The survey waits again rather than showing as failed.
        session.execute(
            update(Survey)
            .where(Survey.id == message.survey_id, Survey.status == SurveyStatus.FAILED)
            .values(status=SurveyStatus.SCHEDULED, status_reason=None)
        )
    _record_change(session, "outbox.retried", message, actor=actor, before=before, now=now)
    session.flush()
    return message


def cancel_message(
    session: Session, message_id: int, *, actor: User, now: datetime
) -> OutboxMessage:
    """Stop a message that has not gone yet (pending or waiting to retry)."""
    message = _locked(session, message_id)
    if message.status != OutboxStatus.PENDING:
        raise OutboxActionRefused(str(NOT_CANCELLED[message.status]))
    before = _snapshot(message)
    message.status = OutboxStatus.CANCELLED
    message.last_error = f"cancelled by {actor.name}"
    if message.template == "survey" and message.survey_id is not None:
        session.execute(
            update(Survey)
            .where(
                Survey.id == message.survey_id,
                Survey.status.in_((SurveyStatus.SCHEDULED, SurveyStatus.FAILED)),
            )
            .values(status=SurveyStatus.CANCELLED, status_reason=f"cancelled by {actor.name}"[:300])
        )
    _record_change(session, "outbox.cancelled", message, actor=actor, before=before, now=now)
    session.flush()
    return message


def _locked(session: Session, message_id: int) -> OutboxMessage:
    # Locked, so a worker claiming it at this moment waits (or is waited for).
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise MessageNotFound(message_id)
    return message


def _suppressed(customer: Customer) -> str:
    # The reason is stored as the provider or the admin gave it: shown as written.
    if customer.suppression_reason:
        return _(
            "%(email)s is suppressed (%(reason)s); we do not ask them anything any more.",
            email=customer.email,
            reason=customer.suppression_reason,
        )
    return _(
        "%(email)s is suppressed (no reason given); we do not ask them anything any more.",
        email=customer.email,
    )


def _target(message: OutboxMessage) -> str:
    return f"outbox message {message.id} ({message.template} to {message.to_email or '—'})"


def _snapshot(message: OutboxMessage) -> dict:
    return {
        "status": message.status,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.isoformat(),
        "last_error": message.last_error,
    }


def _record_change(
    session: Session,
    action: str,
    message: OutboxMessage,
    *,
    actor: User,
    before: dict | None,
    now: datetime,
) -> None:
    """The audit log's line for this change, with the message's state after it."""
    record_admin_change(
        session,
        actor_user=actor,
        action=action,
        target=_target(message),
        before=before,
        after=_snapshot(message),
        now=now,
    )
