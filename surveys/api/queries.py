"""Loading what the API's read endpoints show, a page at a time and in a fixed few queries.

Lists use keyset pagination: a page ends at a (timestamp, id) position and the
next starts just past it, so rows inserted meanwhile never shift or repeat a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session, joinedload, selectinload

from surveys.models import (
    Answer,
    Case,
    CaseEvent,
    Customer,
    Purchase,
    QuestionSetVersion,
    Response,
    Survey,
    User,
)
from surveys.services.cases.conversation import NOTE_KIND, waiting_on_sql

Position = tuple[datetime, int]


@dataclass(frozen=True)
class CaseView:
    """A case with what its API shape needs besides its own columns."""

    case: Case
    reasons: list[Answer]
    comments: list[CaseEvent]


def _case_query():
    """Cases with everything their API shape shows: a fixed few queries for a whole page."""
    return select(Case).options(
        joinedload(Case.owner),
        joinedload(Case.customer),
        joinedload(Case.purchase),
        joinedload(Case.response).selectinload(Response.answers).joinedload(Answer.question),
        selectinload(Case.events).joinedload(CaseEvent.actor_user),
        selectinload(Case.events).joinedload(CaseEvent.actor_api_key),
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
    waiting_on: str | None = None,
    search: str | None = None,
) -> tuple[list[CaseView], bool]:
    """Cases newest first, filtered; returns the page and whether more follow it.

    `waiting_on` is "owner" or "customer" (see `conversation.waiting_on`); `search`
    matches part of the customer's name or email, or of the order id.
    """
    query = _case_query().order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1)
    if status:
        query = query.where(Case.status == status)
    if waiting_on:
        query = query.where(waiting_on_sql() == waiting_on)
    if search:
        needle = search.lower()
        customers = select(Customer.id).where(
            or_(
                func.lower(Customer.name).contains(needle, autoescape=True),
                func.lower(Customer.email).contains(needle, autoescape=True),
            )
        )
        orders = select(Purchase.id).where(
            func.lower(Purchase.order_id).contains(needle, autoescape=True)
        )
        query = query.where(or_(Case.customer_id.in_(customers), Case.purchase_id.in_(orders)))
    if owner_email:
        owner_ids = select(User.id).where(func.lower(User.email) == owner_email.lower())
        query = query.where(Case.owner_id.in_(owner_ids))
    if before:
        moment, case_id = before
        query = query.where(tuple_(Case.created_at, Case.id) < (moment, case_id))
    cases = list(session.scalars(query))
    return _with_details(session, cases[:limit]), len(cases) > limit


def _with_details(session: Session, cases: list[Case]) -> list[CaseView]:
    """Every case's negative answers and notes, from what `_case_query` loaded with it."""
    return [
        CaseView(
            case,
            [answer for answer in case.response.answers if answer.negative],
            sorted(
                (event for event in case.events if event.kind == NOTE_KIND),
                key=lambda event: (event.created_at, event.id),
            ),
        )
        for case in cases
    ]


def list_responses(
    session: Session, *, since: datetime | None, after: Position | None, limit: int
) -> tuple[list[Response], bool]:
    """Completed responses oldest first; returns the page and whether more follow it."""
    responses = list(session.scalars(responses_query(since=since, after=after, limit=limit)))
    return responses[:limit], len(responses) > limit


def responses_query(*, since: datetime | None, after: Position | None, limit: int):
    """The query behind one page of `list_responses` (one row more than `limit`)."""
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
        # A row-value comparison seeks ix_responses_submitted_at_id straight to the cursor;
        # `a > x OR (a = x AND id > y)` made the database walk every row before it.
        query = query.where(tuple_(Response.submitted_at, Response.id) > tuple(after))
    return query
