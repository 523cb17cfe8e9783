"""Loading what the Delighted-compatible lists show, a page at a time, in a fixed few queries.

Delighted paged by number (`page`, `per_page`), oldest first; so do these,
ordered by (timestamp, id) so that a page never shows a row twice.
"""

from __future__ import annotations

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from surveys.delighted.params import ListQuery, ResponseQuery
from surveys.models import Answer, Case, Customer, QuestionSetVersion, Response, Survey

# What email_events.py and the unsubscribe paths write as a suppression reason:
# a bounce, or SendGrid dropping mail it will not deliver to the address, is a
# bounce; a drop because the address unsubscribed or complained is not.
_reason = func.coalesce(Customer.suppression_reason, "")
BOUNCED = or_(
    _reason.like("bounced%"),
    and_(
        _reason.like("dropped%"), not_(_reason.like("%Unsubscribed%")), not_(_reason.like("%Spam%"))
    ),
)


def list_survey_responses(session: Session, query: ResponseQuery) -> list[Response]:
    """One page of completed responses, with everything their shape needs loaded."""
    statement = select(Response).options(
        joinedload(Response.survey).joinedload(Survey.purchase),
        joinedload(Response.survey).joinedload(Survey.customer),
        joinedload(Response.version).joinedload(QuestionSetVersion.question_set),
        joinedload(Response.version).selectinload(QuestionSetVersion.questions),
        selectinload(Response.answers).joinedload(Answer.question),
    )
    if query.lower_bound is not None:
        statement = statement.where(Response.submitted_at >= query.lower_bound)
    if query.upper_bound is not None:
        statement = statement.where(Response.submitted_at < query.upper_bound)
    if query.person_email:
        statement = statement.where(
            Response.customer_id.in_(
                select(Customer.id).where(Customer.email == query.person_email)
            )
        )
    if query.newest_first:
        statement = statement.order_by(Response.submitted_at.desc(), Response.id.desc())
    else:
        statement = statement.order_by(Response.submitted_at, Response.id)
    return list(session.scalars(statement.offset(query.offset).limit(query.limit)))


def cases_of(session: Session, responses: list[Response]) -> dict[int, int]:
    """The id of the case each response opened, by response id (responses without one absent)."""
    if not responses:
        return {}
    rows = session.execute(
        select(Case.response_id, Case.id).where(
            Case.response_id.in_([response.id for response in responses])
        )
    )
    return {response_id: case_id for response_id, case_id in rows}


def list_suppressed(session: Session, window: ListQuery, *, bounced: bool) -> list[Customer]:
    """One page of bounced addresses, or of every other suppressed one, oldest first."""
    statement = (
        select(Customer)
        .where(Customer.suppressed_at.is_not(None), Customer.erased_at.is_(None))
        .where(BOUNCED if bounced else not_(BOUNCED))
        .order_by(Customer.suppressed_at, Customer.id)
        .offset(window.offset)
        .limit(window.limit)
    )
    if window.lower_bound is not None:
        statement = statement.where(Customer.suppressed_at >= window.lower_bound)
    if window.upper_bound is not None:
        statement = statement.where(Customer.suppressed_at < window.upper_bound)
    return list(session.scalars(statement))
