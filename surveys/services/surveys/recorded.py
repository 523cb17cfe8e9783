"""Responses an integration records or annotates (Delighted's POST and PUT survey_responses).

A response given elsewhere (a phone call, a kiosk, another tool) is recorded as the
answer to a `manual` survey of the purchase question set: the score answers the
`recommend` question and the comment the `one_thing` question, through
`submit_response`, so a negative one opens a case exactly as an emailed one does.
Notes and tags are the integration's own: notes are only ever added, tags replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.db import insert_row
from surveys.models import ApiKey, Customer, Purchase, Response, ResponseNote, Survey
from surveys.models.surveys import SurveyStatus
from surveys.services.question_sets.assignments import question_set_for_purchase
from surveys.services.surveys.responses import InvalidAnswers, submit_response, survey_version
from surveys.services.surveys.scheduling import lock_customer

SCORE_KEY = "recommend"
COMMENT_KEY = "one_thing"
RECORDED_REASON = "answered elsewhere and recorded through the API"


@dataclass(frozen=True)
class GivenResponse:
    """A response given elsewhere, already checked for shape by its parser."""

    score: int
    comment: str | None = None
    # When it was given; None is now.
    answered_at: datetime | None = None
    # The order it was about, if the integration named one this customer has.
    order_id: str | None = None


def record_response(
    session: Session, customer: Customer, given: GivenResponse, *, now: datetime
) -> Response:
    """Record the response as the customer's answer, opening a case when it is negative.

    Raises InvalidAnswers (keyed by question) when the score or comment does not fit.
    """
    lock_customer(session, customer)
    at = given.answered_at or now
    purchase = None
    if given.order_id is not None:
        purchase = session.scalar(
            select(Purchase).where(
                Purchase.customer_id == customer.id, Purchase.order_id == given.order_id
            )
        )
    question_set = question_set_for_purchase(session, purchase)
    survey = insert_row(
        session,
        Survey,
        {
            "kind": "manual",
            "status": SurveyStatus.SENT,
            "status_reason": RECORDED_REASON,
            "customer_id": customer.id,
            "purchase_id": purchase.id if purchase else None,
            "question_set_id": question_set.id,
            "send_at": at,
            "sent_at": at,
            "created_at": now,
        },
    )
    keys = {question.key for question in survey_version(session, survey).questions}
    if SCORE_KEY not in keys:
        raise InvalidAnswers({SCORE_KEY: f"the “{question_set.key}” set asks no 0–10 question"})
    answers = {SCORE_KEY: str(given.score)}
    if given.comment and COMMENT_KEY in keys:
        answers[COMMENT_KEY] = given.comment
    response = submit_response(session, survey, answers, now=now, require_all=False)
    # The case (if any) was opened now, with deadlines from now; the response keeps its time.
    response.submitted_at = at
    survey.answered_at = at
    session.flush()
    return response


def annotate_response(
    session: Session,
    response: Response,
    *,
    new_notes: list[str],
    tags: list[str] | None,
    by_api_key: ApiKey | None,
    now: datetime,
) -> bool:
    """Add the notes and, when given, replace the tags; True when anything changed."""
    changed = False
    for text in new_notes:
        response.notes.append(
            ResponseNote(
                text=text, api_key_id=by_api_key.id if by_api_key else None, created_at=now
            )
        )
        changed = True
    if tags is not None and tags != (response.tags or []):
        response.tags = tags
        changed = True
    if changed:
        response.updated_at = now
    session.flush()
    return changed
