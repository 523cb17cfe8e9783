"""What people do with a case, from the moment it opens until the customer says it is fixed.

Each action is one function that checks the case's status, changes it and
records a `CaseEvent` naming who acted (a person, an API key, or nobody: the
service itself) through `record_event`. Pages and the API call the same
functions, so a case moves the same way whichever door the owner used. An
action that does not fit the status raises `CaseStateError` (409 / a clear
message on the page); a value that does not fit raises `CaseInputError`
naming the field (422).

The life of a case: `open` → `acknowledged` (one click, or the first reply)
→ `resolved` (with what was done; the customer gets the fix-check survey) →
`closed` when they say it worked, or when they do not answer within
`fix_check_days`. A "no" or "partly" sends it back to `acknowledged` with the
same owner. The worker escalates missed deadlines (`escalate_overdue_cases`)
and closes unconfirmed fixes (`close_unconfirmed_cases`).

A case waiting for an owner (`owner_id` None, see `surveys.services.cases`)
has no deadlines and nobody to write as: it can take notes and be handed to
someone (which starts its deadlines), and nothing else until it has an owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from surveys.models import (
    Answer,
    ApiKey,
    Case,
    CaseEvent,
    Customer,
    Purchase,
    Response,
    Survey,
    User,
)
from surveys.outbox.enqueue import enqueue_email, enqueue_email_to_user
from surveys.services.customers.touchpoints import record_touchpoint
from surveys.services.paging import shown_page
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import get_setting
from surveys.services.surveys.scheduling import lock_customer, schedule_survey
from surveys.services.webhooks_out.events import CASE_CLOSED, CASE_RESOLVED, emit_case_event

MAX_RESOLUTION_LENGTH = 5000
MAX_REPLY_LENGTH = 5000
MAX_NOTE_LENGTH = 5000
MAX_REASON_LENGTH = 1000
# Cases the owner still has to act on, or is waiting on the customer for.
UNFINISHED_STATUSES = ("open", "acknowledged", "resolved")
INBOX_PAGE_SIZE = 50
# Internal notes are timeline events of this kind (the API's `comments`).
NOTE_KIND = "note"
# The question set sent when a case is resolved: "did our fix work?".
FIX_CHECK_SET = "fix-check"
# What a customer tells us about themselves: kept on the profile, not a complaint.
PREFERENCES_KEY = "preferences"
BREACHES = ("acknowledge", "resolve")
WAITING_FOR_OWNER_MESSAGE = (
    "Nobody owns this case yet: hand it to someone first. They then acknowledge it, "
    "reply and resolve it."
)


class CaseError(Exception):
    """Base of the errors a case action raises; the message is meant for people."""


class CaseNotFound(CaseError):
    """No such case, or not one this user may see (both look the same from outside: 404)."""


class CaseStateError(CaseError):
    """The action does not fit the case's status (409)."""


class CaseInputError(CaseError):
    """A value given with the action is not acceptable (422); `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- reading ----------------------------------------------------------------


def _case_page_options():
    """Everything a case page or API document shows, loaded in a few queries."""
    return (
        selectinload(Case.owner),
        selectinload(Case.customer).selectinload(Customer.owner),
        selectinload(Case.purchase).selectinload(Purchase.items),
        selectinload(Case.response).selectinload(Response.answers).selectinload(Answer.question),
        selectinload(Case.events).selectinload(CaseEvent.actor_user),
        selectinload(Case.events).selectinload(CaseEvent.actor_api_key),
    )


def get_case(session: Session, case_id: int) -> Case:
    """The case with everything its page shows (for API keys, which see every case)."""
    case = session.scalar(select(Case).where(Case.id == case_id).options(*_case_page_options()))
    if case is None:
        raise CaseNotFound(f"There is no case {case_id}.")
    return case


def get_case_for(session: Session, user: User, case_id: int) -> Case:
    """The case, if this user may see it: admins see every case, owners only their own."""
    case = get_case(session, case_id)
    if not (user.is_admin or case.owner_id == user.id):
        # The same answer as for a case that does not exist: no hint that it does.
        raise CaseNotFound(f"There is no case {case_id}.")
    return case


@dataclass(frozen=True)
class InboxPage:
    """One page of an inbox: its cases, and where it stands among all of them."""

    cases: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def inbox_cases(
    session: Session, *, owner: User | None, page: int = 1, per_page: int = INBOX_PAGE_SIZE
) -> InboxPage:
    """One page of unclosed cases (of `owner`, or everyone's when None), the most pressing first.

    Paged because an inbox can hold hundreds of cases, and each row loads the
    customer's answers: the page would slow down with every case added.

    Cases waiting for an owner come first (only admins see them), the longest
    waiting first; then cases waiting on their owner, by the deadline they face
    next (acknowledge-by while open, resolve-by once acknowledged), so an
    overdue case is never below one that is not due yet. Resolved ones, which
    wait on the customer, come last, newest first.
    """
    stage = sql_case(
        (Case.owner_id.is_(None), 0),
        (Case.status.in_(("open", "acknowledged")), 1),
        else_=2,
    )
    due = sql_case(
        (Case.status == "open", Case.acknowledge_by),
        (Case.status == "acknowledged", Case.resolve_by),
        else_=None,
    )
    unfinished = Case.status.in_(UNFINISHED_STATUSES)
    if owner is not None:
        unfinished = unfinished & (Case.owner_id == owner.id)
    total = session.scalar(select(func.count(Case.id)).where(unfinished)) or 0
    page = shown_page(page, total=total, per_page=per_page)
    query = (
        select(Case)
        .where(unfinished)
        .options(
            selectinload(Case.owner),
            selectinload(Case.customer),
            selectinload(Case.response)
            .selectinload(Response.answers)
            .selectinload(Answer.question),
        )
        .order_by(
            stage,
            due,
            Case.resolved_at.desc(),
            # Within the waiting ones (no deadline yet), the longest waiting first.
            sql_case((Case.owner_id.is_(None), Case.created_at)),
            sql_case((Case.owner_id.is_(None), Case.id)),
            Case.created_at.desc(),
            Case.id.desc(),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return InboxPage(list(session.scalars(query)), total=total, page=page, per_page=per_page)


@dataclass(frozen=True)
class Reason:
    """A negative answer as the customer gave it: the question and the words they chose."""

    question: str
    answer: str


def answer_words(answer: Answer) -> str:
    """An answer as the customer saw it: the option's label, "4 out of 10", or their text."""
    question = answer.question
    if answer.value in (None, ""):
        return ""
    if question.type == "scale" and question.max_value is not None:
        return f"{answer.value} out of {question.max_value}"
    return question.label_for(answer.value) or ""


def negative_reasons(case: Case) -> list[Reason]:
    """The answers that opened the case, in the order the customer gave them."""
    return [
        Reason(answer.question.text, answer_words(answer))
        for answer in case.response.answers
        if answer.negative
    ]


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
    if case.status == "open":
        return Deadline("Acknowledge", case.acknowledge_by)
    if case.status == "acknowledged":
        return Deadline("Resolve", case.resolve_by)
    return None


def written_words(case: Case) -> list[str]:
    """What the customer wrote in their own words (not their preferences), in order."""
    return [
        answer.value.strip()
        for answer in case.response.answers
        if answer.question.type == "text"
        and answer.question.key != PREFERENCES_KEY
        and (answer.value or "").strip()
    ]


def reply_opening(case: Case) -> str:
    """How the reply composer starts: the customer's own words, for the owner to paraphrase.

    What they wrote when they wrote something; else the answers that opened the case.
    """
    written = written_words(case)
    if written:
        quoted = " … ".join(f"“{text}”" for text in written)
    else:
        quoted = " and ".join(
            f"“{answer_words(answer)}” ({answer.question.text})"
            for answer in case.response.answers
            if answer.negative
        )
    return f"You told us: {quoted}\n\n" if quoted else ""


def can_acknowledge(case: Case) -> bool:
    """Whether the case's status lets it be acknowledged (by its owner: it needs one)."""
    return case.status == "open" and case.owner_id is not None


def can_resolve(case: Case) -> bool:
    """Whether the case's status lets it be resolved (it needs an owner)."""
    return case.status in ("open", "acknowledged") and case.owner_id is not None


def can_reply(case: Case) -> bool:
    """Whether the owner may still write to the customer about this case (there is one)."""
    return (
        case.status in UNFINISHED_STATUSES
        and case.customer.erased_at is None
        and case.owner_id is not None
    )


def can_reassign(case: Case) -> bool:
    """Whether the case may move to another owner (a closed case needs nobody)."""
    return case.status in UNFINISHED_STATUSES


def reassign_candidates(session: Session, case: Case) -> list[User]:
    """Everyone who could take the case: active people other than its owner (if any)."""
    query = select(User).where(User.active.is_(True)).order_by(User.name, User.id)
    if case.owner_id is not None:
        query = query.where(User.id != case.owner_id)
    return list(session.scalars(query))


# --- acting ------------------------------------------------------------------


def record_event(
    session: Session,
    case: Case,
    kind: str,
    *,
    now: datetime,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
    body: str | None = None,
    data: dict | None = None,
) -> CaseEvent:
    """Add one line to the case's timeline, naming who acted (nobody: the system)."""
    event = CaseEvent(
        kind=kind,
        actor_user=by_user,
        actor_api_key=by_api_key,
        body=body,
        data=data,
        created_at=now,
    )
    case.events.append(event)
    session.flush()
    return event


def _lock(session: Session, case: Case) -> None:
    """Re-read the case under a row lock, so two people acting at once act in turn.

    The second one then sees the first one's status and is refused cleanly.
    (SQLite has no row locks; its write lock, taken at BEGIN, serialises instead.)
    """
    session.refresh(case, with_for_update=True)


def ensure_can_resolve(case: Case) -> None:
    """Raise CaseStateError unless the case's status lets it be resolved."""
    _ensure_has_owner(case)
    if not can_resolve(case):
        raise CaseStateError(f"This case is already {case.status}; there is nothing to resolve.")


def ensure_can_reply(case: Case) -> None:
    """Raise CaseStateError unless the owner may still write to the customer."""
    if case.customer.erased_at is not None:
        raise CaseStateError(
            "This customer's personal data was erased; we can no longer write to them."
        )
    _ensure_has_owner(case)
    if not can_reply(case):
        raise CaseStateError("This case is closed, so there is no reply to send from it.")


def ensure_can_reassign(case: Case) -> None:
    """Raise CaseStateError unless the case may move to another owner."""
    if not can_reassign(case):
        raise CaseStateError("This case is closed; there is nothing left to hand over.")


def _ensure_has_owner(case: Case) -> None:
    if case.owner_id is None:
        raise CaseStateError(WAITING_FOR_OWNER_MESSAGE)


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
        raise CaseInputError(field, f"Keep it under {max_length} characters.")
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
    _lock(session, case)
    _ensure_has_owner(case)
    if not can_acknowledge(case):
        raise CaseStateError(_not_open_message(case))
    case.status = "acknowledged"
    case.acknowledged_at = now
    return record_event(
        session, case, "acknowledged", now=now, by_user=by_user, by_api_key=by_api_key
    )


def reply_to_customer(
    session: Session,
    case: Case,
    *,
    message: str,
    now: datetime,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
) -> CaseEvent:
    """Email the customer in the owner's name, `Reply-To` the owner, so their answer reaches them.

    A reply to an open case takes it too: the customer has heard from a person.
    """
    _require_actor(by_user, by_api_key)
    _lock(session, case)
    ensure_can_reply(case)
    message = _require_text(
        "message", message, missing="Write your reply to the customer.", max_length=MAX_REPLY_LENGTH
    )
    if message == _text(reply_opening(case)):
        raise CaseInputError(
            "message",
            "Add your own words after theirs: say what you will do about it, and by when.",
        )
    if case.status == "open":
        case.status = "acknowledged"
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
        data={"to": customer.email, "from_name": owner.name, "reply_to": owner.email},
    )
    enqueue_email(
        session,
        template="reply",
        to_email=customer.email,
        to_name=customer.name,
        reply_to=owner.email,
        from_name=owner.name,
        context={"event_id": event.id},
        customer=customer,
        case=case,
        now=now,
    )
    record_touchpoint(
        session, customer=customer, kind="personal_reply", polarity="positive", now=now, case=case
    )
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
    body = _require_text("body", body, missing="Write the note.", max_length=MAX_NOTE_LENGTH)
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
    one this way, and its deadlines start now (see `surveys.services.cases`).
    """
    _require_actor(by_user, by_api_key)
    _lock(session, case)
    ensure_can_reassign(case)
    if new_owner is None:
        raise CaseInputError("owner", "Choose who takes the case.")
    if not new_owner.active:
        raise CaseInputError("owner", f"{new_owner.name} is deactivated and cannot take cases.")
    if new_owner.id == case.owner_id:
        raise CaseInputError("owner", f"{new_owner.name} already owns this case.")
    reason = _require_text(
        "reason",
        reason,
        max_length=MAX_REASON_LENGTH,
        missing="Say why the case moves: the new owner should not have to ask.",
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
        enqueue_email(
            session,
            template="case_reassigned_customer",
            to_email=customer.email,
            to_name=customer.name,
            reply_to=new_owner.email,
            from_name=new_owner.name,
            context={"event_id": event.id},
            customer=customer,
            case=case,
            now=now,
        )
    return event


def resolve_case(
    session: Session,
    case: Case,
    *,
    resolution: str,
    now: datetime,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
) -> CaseEvent:
    """Mark the case fixed (`open`/`acknowledged` → `resolved`) and ask the customer if it is."""
    _require_actor(by_user, by_api_key)
    # The customer first, as everywhere (see lock_customer): the touch point below
    # references the customer, and the fix-check survey then needs this lock.
    lock_customer(session, case.customer)
    _lock(session, case)
    # The status first: a note does not matter on a case that cannot be resolved.
    ensure_can_resolve(case)
    resolution = (resolution or "").strip()
    if not resolution:
        raise CaseInputError("resolution", "Say what you did to fix it.")
    if len(resolution) > MAX_RESOLUTION_LENGTH:
        raise CaseInputError(
            "resolution", f"Keep the resolution under {MAX_RESOLUTION_LENGTH} characters."
        )
    # Resolving an untouched case means it was taken too: stamp that, so the
    # acknowledge deadline is not reported as missed afterwards.
    if case.acknowledged_at is None:
        case.acknowledged_at = now
    case.status = "resolved"
    case.resolved_at = now
    case.resolution = resolution
    event = record_event(
        session, case, "resolved", now=now, by_user=by_user, by_api_key=by_api_key, body=resolution
    )
    record_touchpoint(
        session, customer=case.customer, kind="resolution", polarity="positive", now=now, case=case
    )
    survey = _ask_whether_fixed(session, case, now=now)
    event.data = {"fix_check_survey_id": survey.id if survey else None}
    session.flush()
    emit_case_event(session, CASE_RESOLVED, case, now=now)
    return event


def _ask_whether_fixed(session: Session, case: Case, *, now: datetime) -> Survey | None:
    """Schedule the fix-check survey; say on the timeline when it cannot be sent."""
    customer = case.customer
    question_set = get_question_set(session, FIX_CHECK_SET)
    if customer.erased_at is not None or question_set is None:
        why = (
            "the customer's data was erased"
            if customer.erased_at is not None
            else f"the “{FIX_CHECK_SET}” question set is missing"
        )
        record_event(
            session,
            case,
            "fix_check_not_sent",
            now=now,
            body=f"We could not ask whether the fix worked: {why}.",
        )
        return None
    survey = schedule_survey(
        session,
        customer=customer,
        kind="fix_check",
        question_set=question_set,
        now=now,
        purchase=case.purchase,
        case=case,
        customer_locked=True,  # by resolve_case, before anything referenced the customer
    )
    if survey.status != "scheduled":
        record_event(
            session,
            case,
            "fix_check_not_sent",
            now=now,
            body=f"We could not ask {customer.display_name} whether the fix worked: "
            f"{survey.status_reason}.",
            data={"survey_id": survey.id, "status": survey.status},
        )
    return survey


def record_fix_check_sent(session: Session, survey_id: int, *, now: datetime) -> None:
    """Note on the case's timeline that its fix-check survey reached the customer's mailbox."""
    survey = session.get(Survey, survey_id)
    if survey is None or survey.kind != "fix_check" or survey.case_id is None:
        return
    case = session.get(Case, survey.case_id)
    record_event(
        session,
        case,
        "fix_check_sent",
        now=now,
        body=f"Asked {case.customer.display_name} whether the fix worked.",
        data={"survey_id": survey.id},
    )


def answer_fix_check(session: Session, response: Response, *, now: datetime) -> CaseEvent | None:
    """Act on the customer's answer to a fix-check: "yes" closes, "no"/"partly" reopens.

    The answer counts whatever the case's status: a "no" that arrives after an
    unconfirmed close still reopens it, and a "yes" turns that close confirmed.
    """
    survey = response.survey
    case = session.get(Case, survey.case_id) if survey.case_id else None
    if case is None:
        return None
    _lock(session, case)
    words = [
        {"question": answer.question.text, "answer": answer_words(answer)}
        for answer in response.answers
        if answer.value not in (None, "")
    ]
    body = "\n".join(f"{item['question']} {item['answer']}" for item in words)
    data = {"survey_id": survey.id, "response_id": response.id, "answers": words}
    if response.negative:
        return _reopen(session, case, body=body, data=data, now=now)
    return _confirm_fix(session, case, body=body, data=data, now=now)


def _reopen(session: Session, case: Case, *, body: str, data: dict, now: datetime) -> CaseEvent:
    if case.status not in ("resolved", "closed"):
        # Already being worked on again: keep what they said on the timeline.
        return record_event(session, case, "fix_check_answered", now=now, body=body, data=data)
    case.status = "acknowledged"
    case.resolved_at = None
    case.resolution = None
    case.closed_at = None
    case.closed_reason = None
    # A new promise to the customer, with its own deadline and its own escalation.
    case.resolve_by = now + timedelta(hours=float(get_setting(session, "resolve_hours")))
    case.resolve_escalated_at = None
    event = record_event(session, case, "reopened", now=now, body=body, data=data)
    enqueue_email_to_user(
        session,
        case.owner,
        template="case_reopened",
        case=case,
        now=now,
        context={"event_id": event.id},
    )
    record_touchpoint(
        session, customer=case.customer, kind="reopened", polarity="negative", now=now, case=case
    )
    return event


def _confirm_fix(
    session: Session, case: Case, *, body: str, data: dict, now: datetime
) -> CaseEvent:
    if case.status not in ("resolved", "closed"):
        return record_event(session, case, "fix_check_answered", now=now, body=body, data=data)
    event = record_event(session, case, "fix_confirmed", now=now, body=body, data=data)
    if case.status == "resolved":
        _close(
            session,
            case,
            reason="confirmed",
            now=now,
            body=f"{case.customer.display_name} confirmed the fix worked.",
        )
    else:
        case.closed_reason = "confirmed"  # closed unconfirmed, and now confirmed after all
    record_touchpoint(
        session,
        customer=case.customer,
        kind="fix_confirmed",
        polarity="positive",
        now=now,
        case=case,
    )
    return event


def _close(session: Session, case: Case, *, reason: str, body: str, now: datetime) -> CaseEvent:
    case.status = "closed"
    case.closed_at = now
    case.closed_reason = reason
    event = record_event(session, case, "closed", now=now, body=body, data={"reason": reason})
    emit_case_event(session, CASE_CLOSED, case, now=now)
    return event


def _not_open_message(case: Case) -> str:
    if case.status == "acknowledged":
        taken = [event for event in case.events if event.kind == "acknowledged"]
        if taken:
            return f"{taken[-1].actor_label} already acknowledged this case."
        return "This case is already acknowledged."
    return f"This case is already {case.status}; there is nothing to acknowledge."


# --- timed work (the worker runs these on every pass) --------------------------------


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
            Case.status == "open",
            Case.acknowledge_by < now,
            Case.acknowledge_escalated_at.is_(None),
        )
    else:
        conditions = (
            Case.owner_id.is_not(None),
            Case.status.in_(("open", "acknowledged")),
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
    record_touchpoint(
        session,
        customer=case.customer,
        kind="escalation",
        polarity="negative",
        now=now,
        case=case,
        note=f"Not {missed} in time.",
    )


def close_unconfirmed_cases(session: Session, now: datetime) -> int:
    """Close resolved cases whose customer did not answer the fix-check in time.

    The customer gets `fix_check_days` from the moment the survey reached them
    (from the resolution when it could not be sent); one still waiting to be
    delivered keeps its case open until it is.
    """
    days = int(get_setting(session, "fix_check_days"))
    cutoff = now - timedelta(days=days)
    cases = session.scalars(
        select(Case)
        .where(Case.status == "resolved", Case.resolved_at <= cutoff)
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not cases:
        return 0
    latest: dict[int, Survey] = {}
    for survey in session.scalars(
        select(Survey)
        .where(Survey.case_id.in_([case.id for case in cases]), Survey.kind == "fix_check")
        .order_by(Survey.id)
    ):
        latest[survey.case_id] = survey
    closed = 0
    for case in cases:
        survey = latest.get(case.id)
        if survey is not None and survey.status == "scheduled":
            continue
        if survey is not None and survey.sent_at is not None and survey.sent_at > cutoff:
            continue
        _close(
            session,
            case,
            reason="unconfirmed",
            now=now,
            body=f"{case.customer.display_name} did not tell us within {days} days whether "
            "the fix worked, so the case closed unconfirmed.",
        )
        closed += 1
    return closed
