"""An email that arrived at a case's reply address, put on the case.

From the customer it joins the conversation ("customer_replied"): the owner is
emailed, a resolved case reopens, and the clock restarts when the case was
waiting on the customer. From the case's owner, at the address given to them,
it is their reply to the customer, sent as one from the case page would be.
Anything else is kept aside as an "unverified_message" the owner can read and
nobody else receives. Reading the message (MIME, SendGrid's form, quoted
history) is `surveys.mail.inbound`'s; this module gets it read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from surveys.models import Case, CaseAttachment, CaseEvent, User
from surveys.models.cases import CaseStatus
from surveys.outbox.enqueue import enqueue_email_to_user
from surveys.services.cases.actions import reply_to_customer
from surveys.services.cases.conversation import CUSTOMER, waiting_on
from surveys.services.cases.errors import CaseError
from surveys.services.cases.fix_check import reopen_case
from surveys.services.cases.timeline import lock_case, record_event
from surveys.services.chat_channels import events as chat
from surveys.services.chat_channels.notify import notify_case
from surveys.services.settings import get_setting
from surveys.services.webhooks_out.events import CASE_CUSTOMER_REPLIED, emit_case_event

log = logging.getLogger(__name__)

# What one message may keep in files, all together; larger ones are listed, not kept.
MAX_KEPT_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_BODY_LENGTH = 20_000
MAX_FILENAME_LENGTH = 255
CUSTOMER_REPLIED = "customer_replied"
UNVERIFIED_MESSAGE = "unverified_message"
# Who an address was given to (see surveys.mail.reply_addresses).
OWNER_AUDIENCE = "owner"


@dataclass(frozen=True)
class ReceivedAttachment:
    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class ReceivedEmail:
    """One email as read: clean text (no NUL, no lone surrogate), the quoted history gone.

    `automatic` says why it is an automatic reply (an out-of-office, a bounce),
    which is never put on a case: it would reopen it, or reach the customer.
    """

    sender: str
    sender_name: str
    subject: str
    text: str
    attachments: tuple[ReceivedAttachment, ...] = ()
    automatic: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What became of a message: `outcome` is customer_replied, owner_replied, unverified or
    ignored; `detail` says why, in a sentence for the log and the command line."""

    outcome: str
    detail: str
    case_id: int | None = None
    event_id: int | None = None
    attachments: list[dict] = field(default_factory=list)


def receive_case_email(
    session: Session,
    email: ReceivedEmail,
    *,
    case_id: int,
    audience: str | None,
    now: datetime,
) -> Receipt:
    """Put `email`, sent to case `case_id`'s address, on the case.

    `audience` is who the address was given to ("customer" or "owner"), None when
    its signature was missing or wrong.
    """
    case = session.get(Case, case_id)
    if case is None:
        return Receipt("ignored", f"there is no case {case_id}")
    if email.automatic:
        return Receipt("ignored", f"an automatic message ({email.automatic})", case.id)
    if not email.text and not email.attachments:
        return Receipt("ignored", "the message says nothing (no text, no files)", case.id)
    lock_case(session, case)
    sender = email.sender.lower()
    customer, owner = case.customer, case.owner
    if audience is None:
        return _unverified(session, case, email, "the address's signature is missing or wrong", now)
    if customer.erased_at is None and sender == customer.email.lower():
        return _customer_replied(session, case, email, now)
    if owner is not None and sender == owner.email.lower():
        if audience != OWNER_AUDIENCE:
            # A customer who knows their own address could pretend to be the owner;
            # only the owner's own address relays a reply to the customer.
            why = "the owner's address wrote to the address given to the customer"
            return _unverified(session, case, email, why, now)
        return _owner_replied(session, case, owner, email, now)
    return _unverified(
        session,
        case,
        email,
        "sent by someone who is neither the customer nor the owner",
        now,
    )


def _customer_replied(session: Session, case: Case, email: ReceivedEmail, now: datetime):
    was_waiting = case.status == CaseStatus.ACKNOWLEDGED and waiting_on(case) == CUSTOMER
    event = record_event(
        session,
        case,
        CUSTOMER_REPLIED,
        now=now,
        body=email.text[:MAX_BODY_LENGTH],
        data={"subject": email.subject, "from": email.sender, "attachments": []},
    )
    listed = _keep_attachments(session, case, event, email.attachments, now)
    event.data = {**event.data, "attachments": listed}
    if case.status == CaseStatus.RESOLVED:
        reopen_case(
            session,
            case,
            body=f"{case.customer.display_name} wrote back after the case was resolved.",
            data={"by": "customer_reply", "event_id": event.id},
            now=now,
        )
        detail = "the customer's reply is on the case, which reopened"
    elif was_waiting:
        _restart_clock(session, case, now)
        detail = "the customer's reply is on the case; the owner's clock starts again"
    else:
        detail = "the customer's reply is on the case"
    if case.owner is not None:
        enqueue_email_to_user(
            session,
            case.owner,
            template=CUSTOMER_REPLIED,
            case=case,
            now=now,
            context={"event_id": event.id},
        )
    session.flush()
    emit_case_event(session, CASE_CUSTOMER_REPLIED, case, now=now)
    notify_case(session, chat.CUSTOMER_REPLIED, case, now=now, quote=event.body or "")
    return Receipt("customer_replied", detail, case.id, event.id, listed)


def _owner_replied(session: Session, case: Case, owner: User, email: ReceivedEmail, now):
    try:
        event = reply_to_customer(session, case, message=email.text, now=now, by_user=owner)
    except CaseError as exc:  # closed, erased, empty: nothing went out, and the owner sees why
        return _unverified(session, case, email, f"not sent to the customer: {exc}", now)
    listed = _keep_attachments(session, case, event, email.attachments, now)
    event.data = {**(event.data or {}), "via": "email"}
    if listed:
        # The customer receives the words; the files stay on the case.
        event.data = {**event.data, "attachments": listed}
    return Receipt(
        "owner_replied",
        "the owner's reply was sent to the customer",
        case.id,
        event.id,
        listed,
    )


def _unverified(session: Session, case: Case, email: ReceivedEmail, reason: str, now: datetime):
    event = record_event(
        session,
        case,
        UNVERIFIED_MESSAGE,
        now=now,
        body=email.text[:MAX_BODY_LENGTH],
        data={
            "from": email.sender,
            "subject": email.subject,
            "reason": reason,
            "attachments": [],
        },
    )
    listed = _keep_attachments(session, case, event, email.attachments, now)
    event.data = {**event.data, "attachments": listed}
    log.info(
        "case %s: kept an unverified message from %s aside: %s",
        case.id,
        email.sender,
        reason,
    )
    return Receipt("unverified", f"kept aside as unverified: {reason}", case.id, event.id, listed)


def _keep_attachments(
    session: Session,
    case: Case,
    event: CaseEvent,
    attachments: tuple[ReceivedAttachment, ...],
    now: datetime,
) -> list[dict]:
    """Store the files that fit in the message's 10 MB, in order; list every one."""
    listed: list[dict] = []
    kept_bytes = 0
    for attachment in attachments:
        entry = {
            "id": None,
            "filename": attachment.filename[:MAX_FILENAME_LENGTH],
            "size": attachment.size,
            "content_type": attachment.content_type[:255],
        }
        if kept_bytes + attachment.size > MAX_KEPT_ATTACHMENT_BYTES:
            entry["not_kept"] = (
                f"not kept: a message keeps at most {MAX_KEPT_ATTACHMENT_BYTES // (1024 * 1024)} "
                "MB of files; ask the sender for a link instead"
            )
        else:
            row = CaseAttachment(
                case_id=case.id,
                case_event_id=event.id,
                filename=entry["filename"],
                content_type=entry["content_type"],
                size=attachment.size,
                content=attachment.content,
                created_at=now,
            )
            session.add(row)
            session.flush()
            entry["id"] = row.id
            kept_bytes += attachment.size
        listed.append(entry)
    return listed


def _restart_clock(session: Session, case: Case, now: datetime) -> None:
    """The customer spoke again: the owner owes a new answer, with the deadlines of a new case."""
    if case.owner_id is None:
        return
    case.acknowledge_by = now + timedelta(hours=float(get_setting(session, "acknowledge_hours")))
    case.resolve_by = now + timedelta(hours=float(get_setting(session, "resolve_hours")))
    case.acknowledge_escalated_at = None
    case.resolve_escalated_at = None
