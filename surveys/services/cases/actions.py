"""What people do with a case: acknowledge it, reply to the customer, add a note, hand it
to someone else, resolve it.

Each action is one function that checks the case's status, changes it and
records a `CaseEvent` naming who acted through `record_event`. Pages and the
API call the same functions, so a case moves the same way whichever door the
owner used. An action that does not fit the status raises `CaseStateError`;
a value that does not fit raises `CaseInputError` naming the field.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from surveys.models import ApiKey, Case, CaseEvent, User
from surveys.models.cases import CaseStatus
from surveys.outbox.enqueue import enqueue_email, enqueue_email_to_user
from surveys.services.cases.errors import CaseInputError
from surveys.services.cases.fix_check import ask_whether_fixed
from surveys.services.cases.queries import reply_opening
from surveys.services.cases.replies import two_part_reply
from surveys.services.cases.states import (
    ensure_can_acknowledge,
    ensure_can_reassign,
    ensure_can_reply,
    ensure_can_resolve,
)
from surveys.services.cases.timeline import lock_case, record_event
from surveys.services.customers.ledger import record_service_touch
from surveys.services.settings import SPECS, get_setting
from surveys.services.surveys.scheduling import lock_customer
from surveys.services.webhooks_out.events import CASE_RESOLVED, emit_case_event

MAX_RESOLUTION_LENGTH = 5000
MAX_REPLY_LENGTH = 5000
MAX_NOTE_LENGTH = 5000
MAX_REASON_LENGTH = 1000
# The fix-check is asked at once (0) or up to this many days after the resolution.
MAX_ASK_IN_DAYS = SPECS["fix_check_delay_days"].maximum
# Internal notes are timeline events of this kind (the API's `comments`).
NOTE_KIND = "note"


def _require_actor(by_user: User | None, by_api_key: ApiKey | None) -> None:
    if (by_user is None) == (by_api_key is None):
        raise ValueError("a case action is done by exactly one user or one API key")


def _text(value: str | None) -> str:
    """Text typed into a form or sent as JSON: trimmed, with plain line ends."""
    return (value or "").replace("\r\n", "\n").strip()


def _require_text(field: str, value: str | None, *, missing: str, max_length: int) -> str:
    text = _text(value)
    if not text:
        raise CaseInputError(field, missing)
    if len(text) > max_length:
        raise CaseInputError(field, _("Keep it under %(max)d characters.", max=max_length))
    return text


def acknowledge_case(
    session: Session,
    case: Case,
    *,
    now: datetime,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
) -> CaseEvent:
    """Take the case: `open` → `acknowledged`, which stops the acknowledge deadline."""
    _require_actor(by_user, by_api_key)
    lock_case(session, case)
    ensure_can_acknowledge(case)
    case.status = CaseStatus.ACKNOWLEDGED
    case.acknowledged_at = now
    return record_event(
        session, case, "acknowledged", now=now, by_user=by_user, by_api_key=by_api_key
    )


def reply_to_customer(
    session: Session,
    case: Case,
    *,
    message: str | None = None,
    understood: str | None = None,
    will_do: str | None = None,
    now: datetime,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
) -> CaseEvent:
    """Email the customer in the owner's name, `Reply-To` the owner, so their answer reaches them.

    Either one `message`, or the two parts the essays ask for: what the owner
    understood (their own paraphrase, never a copy of the customer's words) and
    what they will do, which become one letter (`surveys.services.cases.replies`).
    A reply to an open case takes it too: the customer has heard from a person.
    """
    _require_actor(by_user, by_api_key)
    lock_case(session, case)
    ensure_can_reply(case)
    data = {}
    if message is not None and (understood is not None or will_do is not None):
        raise CaseInputError(
            "message",
            _("Send either one message, or what you understood and what you will do."),
        )
    if message is None:
        parts = two_part_reply(case, understood=understood, will_do=will_do)
        message = parts.letter
        data = {"understood": parts.understood, "will_do": parts.will_do}
    else:
        message = _require_text(
            "message",
            message,
            missing=_("Write your reply to the customer."),
            max_length=MAX_REPLY_LENGTH,
        )
        if message == _text(reply_opening(case)):
            raise CaseInputError(
                "message",
                _("Add your own words after theirs: say what you will do about it, and by when."),
            )
    if case.status == CaseStatus.OPEN:
        case.status = CaseStatus.ACKNOWLEDGED
        case.acknowledged_at = now
        record_event(session, case, "acknowledged", now=now, by_user=by_user, by_api_key=by_api_key)
    customer, owner = case.customer, case.owner
    event = record_event(
        session,
        case,
        "reply",
        now=now,
        by_user=by_user,
        by_api_key=by_api_key,
        body=message,
        data={"to": customer.email, "from_name": owner.name, "reply_to": owner.email, **data},
    )
    _email_customer_from_owner(session, case, "reply", owner, event, now=now)
    record_service_touch(session, customer=customer, kind="personal_reply", now=now, case=case)
    return event


def add_case_note(
    session: Session,
    case: Case,
    *,
    body: str,
    now: datetime,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
) -> CaseEvent:
    """Add an internal note to the timeline; it is never shown or sent to the customer."""
    _require_actor(by_user, by_api_key)
    body = _require_text("body", body, missing=_("Write the note."), max_length=MAX_NOTE_LENGTH)
    return record_event(
        session, case, NOTE_KIND, now=now, by_user=by_user, by_api_key=by_api_key, body=body
    )


def reassign_case(
    session: Session,
    case: Case,
    *,
    new_owner: User | None,
    reason: str,
    now: datetime,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
) -> CaseEvent:
    """Hand the case to one new owner, with a reason; they and the customer are told.

    The deadlines stay as they were: the customer's wait does not start again
    because the case changed hands. A case waiting for an owner gets its first
    one this way, and its deadlines start now (see `surveys.services.cases.opening`).
    """
    _require_actor(by_user, by_api_key)
    lock_case(session, case)
    ensure_can_reassign(case)
    if new_owner is None:
        raise CaseInputError("owner", _("Choose who takes the case."))
    if not new_owner.active:
        raise CaseInputError(
            "owner", _("%(name)s is deactivated and cannot take cases.", name=new_owner.name)
        )
    if new_owner.id == case.owner_id:
        raise CaseInputError("owner", _("%(name)s already owns this case.", name=new_owner.name))
    reason = _require_text(
        "reason",
        reason,
        max_length=MAX_REASON_LENGTH,
        missing=_("Say why the case moves: the new owner should not have to ask."),
    )
    previous = case.owner
    case.owner = new_owner
    if previous is not None:
        case.reassign_count = (case.reassign_count or 0) + 1
    else:  # its first owner, chosen by hand: the deadlines start now
        chooser = by_user.name if by_user else f"API key “{by_api_key.name}”"
        case.routed_by = f"chosen by {chooser} while the case waited for an owner"[:300]
        case.acknowledge_by = now + timedelta(
            hours=float(get_setting(session, "acknowledge_hours"))
        )
        case.resolve_by = now + timedelta(hours=float(get_setting(session, "resolve_hours")))
    event = record_event(
        session,
        case,
        "reassigned",
        now=now,
        by_user=by_user,
        by_api_key=by_api_key,
        body=reason,
        data={
            "from_user_id": previous.id if previous else None,
            "from_name": previous.name if previous else None,
            "to_user_id": new_owner.id,
            "to_name": new_owner.name,
        },
    )
    enqueue_email_to_user(
        session,
        new_owner,
        template="case_reassigned_owner",
        case=case,
        now=now,
        context={"event_id": event.id},
    )
    customer = case.customer
    if customer.erased_at is None:
        # One person to talk to: the customer learns who that is now, and can simply reply.
        _email_customer_from_owner(
            session, case, "case_reassigned_customer", new_owner, event, now=now
        )
    return event


def resolve_case(
    session: Session,
    case: Case,
    *,
    resolution: str,
    now: datetime,
    ask_in_days: int | None = None,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
) -> CaseEvent:
    """Mark the case fixed (`open`/`acknowledged` → `resolved`) and ask the customer if it is.

    The fix-check goes `ask_in_days` days from now (0: at once; None: the
    `fix_check_delay_days` setting): a courier promised for Tuesday is not
    asked about on Monday.
    """
    _require_actor(by_user, by_api_key)
    # The customer first, as everywhere (see lock_customer): the touch point below
    # references the customer, and the fix-check survey then needs this lock.
    lock_customer(session, case.customer)
    lock_case(session, case)
    # The status first: a note does not matter on a case that cannot be resolved.
    ensure_can_resolve(case)
    resolution = (resolution or "").strip()
    if not resolution:
        raise CaseInputError("resolution", _("Say what you did to fix it."))
    if len(resolution) > MAX_RESOLUTION_LENGTH:
        raise CaseInputError(
            "resolution",
            _("Keep the resolution under %(max)d characters.", max=MAX_RESOLUTION_LENGTH),
        )
    if ask_in_days is None:
        ask_in_days = int(get_setting(session, "fix_check_delay_days"))
    if (
        not isinstance(ask_in_days, int)
        or isinstance(ask_in_days, bool)
        or not 0 <= ask_in_days <= MAX_ASK_IN_DAYS
    ):
        raise CaseInputError(
            "ask_in_days",
            _(
                "Choose when to ask whether it worked: now, or in 1 to %(max)d days.",
                max=MAX_ASK_IN_DAYS,
            ),
        )
    ask_at = now + timedelta(days=ask_in_days)
    # Resolving an untouched case means it was taken too: stamp that, so the
    # acknowledge deadline is not reported as missed afterwards.
    if case.acknowledged_at is None:
        case.acknowledged_at = now
    case.status = CaseStatus.RESOLVED
    case.resolved_at = now
    case.resolution = resolution
    event = record_event(
        session, case, "resolved", now=now, by_user=by_user, by_api_key=by_api_key, body=resolution
    )
    # Not a touch yet: the customer's is confirming the fix (ledger).
    survey = ask_whether_fixed(session, case, now=now, ask_at=ask_at)
    event.data = {
        "fix_check_survey_id": survey.id if survey else None,
        "ask_at": ask_at.isoformat(),
        "ask_in_days": ask_in_days,
    }
    session.flush()
    emit_case_event(session, CASE_RESOLVED, case, now=now)
    return event


def _email_customer_from_owner(
    session: Session, case: Case, template: str, owner: User, event: CaseEvent, *, now: datetime
) -> None:
    """An email to the case's customer in the owner's name, which they can simply answer."""
    customer = case.customer
    enqueue_email(
        session,
        template=template,
        to_email=customer.email,
        to_name=customer.name,
        reply_to=owner.email,
        from_name=owner.name,
        context={"event_id": event.id},
        customer=customer,
        case=case,
        now=now,
    )
