"""Loading what the Delighted-compatible lists show, a page at a time, in a fixed few queries.

Delighted paged by number (`page`, `per_page`), oldest first; so do these,
ordered by (timestamp, id) so that a page never shows a row twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from surveys.delighted.params import ListQuery, ResponseQuery
from surveys.delighted.people_params import PeopleQuery
from surveys.models import (
    Answer,
    Case,
    Customer,
    Purchase,
    QuestionSet,
    QuestionSetVersion,
    Response,
    Survey,
)
from surveys.models.surveys import SurveyStatus

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


def person_properties_of(purchase: Purchase | None) -> dict[str, str] | None:
    """The custom properties a response shows as `person_properties` (None without a purchase):
    the ones kept on the purchase, and its order id."""
    if purchase is None:
        return None
    return {**(purchase.properties or {}), "order_id": purchase.order_id}


# Delighted's `updated_at`: when notes or tags last changed, else when it was submitted.
RESPONSE_UPDATED_AT = func.coalesce(Response.updated_at, Response.submitted_at)


def _with_everything_shown(statement):
    return statement.options(
        joinedload(Response.survey).joinedload(Survey.purchase),
        joinedload(Response.survey).joinedload(Survey.customer),
        joinedload(Response.version).joinedload(QuestionSetVersion.question_set),
        joinedload(Response.version).selectinload(QuestionSetVersion.questions),
        selectinload(Response.answers).joinedload(Answer.question),
        selectinload(Response.notes),
    )


def get_survey_response(session: Session, response_id: int) -> Response | None:
    """One response with everything its shape needs, or None."""
    return session.scalar(
        _with_everything_shown(select(Response)).where(Response.id == response_id)
    )


def question_set_named(session: Session, key: str) -> QuestionSet | None:
    return session.scalar(select(QuestionSet).where(QuestionSet.key == key))


def list_survey_responses(
    session: Session, query: ResponseQuery, *, question_set: QuestionSet | None = None
) -> list[Response]:
    """One page of completed responses, with everything their shape needs loaded."""
    statement = _with_everything_shown(select(Response))
    if question_set is not None:
        statement = statement.where(
            Response.survey_id.in_(
                select(Survey.id).where(Survey.question_set_id == question_set.id)
            )
        )
    if query.updated_lower_bound is not None:
        statement = statement.where(RESPONSE_UPDATED_AT >= query.updated_lower_bound)
    if query.updated_upper_bound is not None:
        statement = statement.where(RESPONSE_UPDATED_AT < query.updated_upper_bound)
    if query.person_id is not None:
        statement = statement.where(Response.customer_id == query.person_id)
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


# --- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    """What Delighted's person shows of their surveys."""

    last_sent_at: datetime | None = None
    last_responded_at: datetime | None = None
    next_survey_scheduled_at: datetime | None = None


def find_person(session: Session, kind: str, value: int | str) -> Customer | None:
    """The customer with this id or email, unless erased."""
    column = Customer.id if kind == "id" else Customer.email
    return session.scalar(select(Customer).where(column == value, Customer.erased_at.is_(None)))


def list_people(session: Session, query: PeopleQuery) -> list[Customer]:
    """One page of people in the order they were created, after the cursor (an id)."""
    statement = (
        select(Customer)
        .where(Customer.erased_at.is_(None))
        .order_by(Customer.id)
        .limit(query.limit + 1)  # one more: is there a next page?
    )
    if query.page_info is not None:
        statement = statement.where(Customer.id > query.page_info)
    if query.email is not None:
        statement = statement.where(Customer.email == query.email)
    if query.since is not None:
        statement = statement.where(Customer.created_at >= query.since)
    if query.until is not None:
        # Whole seconds, as Delighted wrote them: `until` takes in all of its last second.
        statement = statement.where(Customer.created_at < query.until + timedelta(seconds=1))
    return list(session.scalars(statement))


def activity_of(session: Session, customers: list[Customer]) -> dict[int, Activity]:
    """Each customer's last survey sent, last answer and next scheduled survey, in one query."""
    if not customers:
        return {}
    scheduled = Survey.status == SurveyStatus.SCHEDULED
    rows = session.execute(
        select(
            Survey.customer_id,
            func.max(Survey.sent_at),
            func.max(Survey.answered_at),
            func.min(Survey.send_at).filter(scheduled),
        )
        .where(Survey.customer_id.in_([customer.id for customer in customers]))
        .group_by(Survey.customer_id)
    )
    return {row[0]: Activity(*row[1:]) for row in rows}
