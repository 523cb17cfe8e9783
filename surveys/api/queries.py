"""Loading what the API's read endpoints show, a page at a time and in a fixed few queries.

Lists use keyset pagination: a page ends at a (timestamp, id) position and the
next starts just past it, so rows inserted meanwhile never shift or repeat a page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from surveys.models import Answer, Case, CaseEvent, QuestionSetVersion, Response, Survey, User

# The timeline events an owner (or an API key) writes as internal notes.
NOTE_KIND = "note"

Position = tuple[datetime, int]


@dataclass(frozen=True)
class CaseView:
    """A case with what its API shape needs besides its own columns."""

    case: Case
    reasons: list[Answer]
    comments: list[CaseEvent]


def _case_query():
    return select(Case).options(
        joinedload(Case.owner), joinedload(Case.customer), joinedload(Case.purchase)
    )


def get_case_view(session: Session, case_id: int) -> CaseView | None:
    """One case with its reasons and notes, or None."""
    case = session.scalar(_case_query().where(Case.id == case_id))
    return _with_details(session, [case])[0] if case else None


def list_case_views(
    session: Session,
    *,
    status: str | None,
    owner_email: str | None,
    before: Position | None,
    limit: int,
) -> tuple[list[CaseView], bool]:
    """Cases newest first, filtered; returns the page and whether more follow it."""
    query = _case_query().order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1)
    if status:
        query = query.where(Case.status == status)
    if owner_email:
        owner_ids = select(User.id).where(func.lower(User.email) == owner_email.lower())
        query = query.where(Case.owner_id.in_(owner_ids))
    if before:
        moment, case_id = before
        query = query.where(
            or_(Case.created_at < moment, and_(Case.created_at == moment, Case.id < case_id))
        )
    cases = list(session.scalars(query))
    return _with_details(session, cases[:limit]), len(cases) > limit


def _with_details(session: Session, cases: list[Case]) -> list[CaseView]:
    """Attach every case's negative answers and notes with two queries for the whole page."""
    if not cases:
        return []
    reasons: dict[int, list[Answer]] = defaultdict(list)
    for answer in session.scalars(
        select(Answer)
        .options(joinedload(Answer.question))
        .where(
            Answer.response_id.in_([case.response_id for case in cases]), Answer.negative.is_(True)
        )
        .order_by(Answer.response_id, Answer.position)
    ):
        reasons[answer.response_id].append(answer)
    notes: dict[int, list[CaseEvent]] = defaultdict(list)
    for event in session.scalars(
        select(CaseEvent)
        .options(joinedload(CaseEvent.actor_user), joinedload(CaseEvent.actor_api_key))
        .where(CaseEvent.case_id.in_([case.id for case in cases]), CaseEvent.kind == NOTE_KIND)
        .order_by(CaseEvent.created_at, CaseEvent.id)
    ):
        notes[event.case_id].append(event)
    return [CaseView(case, reasons[case.response_id], notes[case.id]) for case in cases]


def list_responses(
    session: Session, *, since: datetime | None, after: Position | None, limit: int
) -> tuple[list[Response], bool]:
    """Completed responses oldest first; returns the page and whether more follow it."""
    query = (
        select(Response)
        .options(
            joinedload(Response.survey).joinedload(Survey.purchase),
            joinedload(Response.survey).joinedload(Survey.customer),
            joinedload(Response.version).joinedload(QuestionSetVersion.question_set),
            selectinload(Response.answers).joinedload(Answer.question),
        )
        .order_by(Response.submitted_at, Response.id)
        .limit(limit + 1)
    )
    if since:
        query = query.where(Response.submitted_at >= since)
    if after:
        moment, response_id = after
        query = query.where(
            or_(
                Response.submitted_at > moment,
                and_(Response.submitted_at == moment, Response.id > response_id),
            )
        )
    responses = list(session.scalars(query))
    return responses[:limit], len(responses) > limit
