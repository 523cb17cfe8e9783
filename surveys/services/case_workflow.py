"""What people do with a case: find it, acknowledge it, resolve it.

Each action is one function that checks the case's status, changes it and
records a `CaseEvent` naming who acted (a person or an API key) through
`record_event`. Pages and the API call the same functions, so a case moves the
same way whichever door the owner used. Later actions (reply, note, reassign,
the fix-check survey, escalations) belong here in the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveys.models import Answer, ApiKey, Case, CaseEvent, Customer, Purchase, Response, User

MAX_RESOLUTION_LENGTH = 5000
# Cases the owner still has to act on, or is waiting on the customer for.
UNFINISHED_STATUSES = ("open", "acknowledged", "resolved")


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


def inbox_cases(session: Session, *, owner: User | None) -> list[Case]:
    """Unclosed cases (of `owner`, or everyone's when None), the most pressing first.

    Open cases come first, earliest acknowledge-by deadline first: the customer
    has not heard from anyone yet. Then acknowledged ones by resolve-by; then
    resolved ones, which wait on the customer, newest first.
    """
    stage = sql_case((Case.status == "open", 0), (Case.status == "acknowledged", 1), else_=2)
    due = sql_case(
        (Case.status == "open", Case.acknowledge_by),
        (Case.status == "acknowledged", Case.resolve_by),
        else_=None,
    )
    query = (
        select(Case)
        .where(Case.status.in_(UNFINISHED_STATUSES))
        .options(
            selectinload(Case.owner),
            selectinload(Case.customer),
            selectinload(Case.response).selectinload(Response.answers)
            .selectinload(Answer.question),
        )
        .order_by(stage, due, Case.resolved_at.desc(), Case.created_at.desc(), Case.id.desc())
    )
    if owner is not None:
        query = query.where(Case.owner_id == owner.id)
    return list(session.scalars(query))


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
    """The deadline that applies in the case's status; None once it waits on the customer."""
    if case.status == "open":
        return Deadline("Acknowledge", case.acknowledge_by)
    if case.status == "acknowledged":
        return Deadline("Resolve", case.resolve_by)
    return None


# --- acting ------------------------------------------------------------------


def record_event(session: Session, case: Case, kind: str, *, now: datetime,
                 by_user: User | None = None, by_api_key: ApiKey | None = None,
                 body: str | None = None, data: dict | None = None) -> CaseEvent:
    """Add one line to the case's timeline, naming who acted (nobody: the system)."""
    event = CaseEvent(kind=kind, actor_user=by_user, actor_api_key=by_api_key, body=body,
                      data=data, created_at=now)
    case.events.append(event)
    session.flush()
    return event


def _lock(session: Session, case: Case) -> None:
    """Re-read the case under a row lock, so two people acting at once act in turn.

    The second one then sees the first one's status and is refused cleanly.
    (SQLite has no row locks; its write lock, taken at BEGIN, serialises instead.)
    """
    session.refresh(case, with_for_update=True)


def can_acknowledge(case: Case) -> bool:
    """Whether the case's status lets it be acknowledged."""
    return case.status == "open"


def can_resolve(case: Case) -> bool:
    """Whether the case's status lets it be resolved."""
    return case.status in ("open", "acknowledged")


def ensure_can_resolve(case: Case) -> None:
    """Raise CaseStateError unless the case's status lets it be resolved."""
    if not can_resolve(case):
        raise CaseStateError(f"This case is already {case.status}; there is nothing to resolve.")


def _require_actor(by_user: User | None, by_api_key: ApiKey | None) -> None:
    if (by_user is None) == (by_api_key is None):
        raise ValueError("a case action is done by exactly one user or one API key")


def acknowledge_case(session: Session, case: Case, *, now: datetime,
                     by_user: User | None = None, by_api_key: ApiKey | None = None) -> CaseEvent:
    """Take the case: `open` → `acknowledged`, which stops the acknowledge deadline."""
    _require_actor(by_user, by_api_key)
    _lock(session, case)
    if not can_acknowledge(case):
        raise CaseStateError(_not_open_message(case))
    case.status = "acknowledged"
    case.acknowledged_at = now
    return record_event(session, case, "acknowledged", now=now, by_user=by_user,
                        by_api_key=by_api_key)


def resolve_case(session: Session, case: Case, *, resolution: str, now: datetime,
                 by_user: User | None = None, by_api_key: ApiKey | None = None) -> CaseEvent:
    """Mark the case fixed (`open`/`acknowledged` → `resolved`), with what was done."""
    _require_actor(by_user, by_api_key)
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
    return record_event(session, case, "resolved", now=now, by_user=by_user,
                        by_api_key=by_api_key, body=resolution)


def _not_open_message(case: Case) -> str:
    if case.status == "acknowledged":
        taken = [event for event in case.events if event.kind == "acknowledged"]
        if taken:
            return f"{taken[-1].actor_label} already acknowledged this case."
        return "This case is already acknowledged."
    return f"This case is already {case.status}; there is nothing to acknowledge."
