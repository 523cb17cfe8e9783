"""Responses with chosen answers, times and negativity, for the insight tests (no case opened)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from surveys.models import Answer, Customer, Response
from surveys.services.insights.themes import record_answer_themes
from tests.factories import make_purchase, make_sent_survey

HAPPY = {"expectations": "meeting", "time_money": "yes", "recommend": "9"}


def make_response(
    session: Session,
    customer: Customer,
    *,
    at: datetime,
    one_thing: str | None = None,
    negative: bool | None = None,
    answers: dict[str, str] | None = None,
    category: str = "hardware",
    question_set_key: str = "heart-to-heart",
) -> Response:
    """A submitted response of `customer` at `at`: `answers` (default: happy ones) plus the
    written `one_thing`; `negative` overrides what the questions' rules say."""
    purchase = make_purchase(
        session,
        customer,
        purchased_at=at - timedelta(days=2),
        items=[{"sku": "X", "name": "Thing", "category": category, "quantity": 1}],
    )
    survey, _token = make_sent_survey(
        session,
        customer,
        purchase=purchase,
        question_set_key=question_set_key,
        sent_at=at - timedelta(hours=1),
    )
    survey.status = "answered"
    survey.answered_at = at
    questions = {q.key: q for q in survey.version.questions}
    values = dict(HAPPY if answers is None else answers)
    if one_thing is not None:
        values["one_thing"] = one_thing
    response = Response(
        survey_id=survey.id, version_id=survey.version_id, customer_id=customer.id, submitted_at=at
    )
    for key, value in values.items():
        question = questions[key]
        response.answers.append(
            Answer(
                question_id=question.id,
                position=question.position,
                value=value,
                negative=question.is_negative(value),
            )
        )
    response.negative = any(a.negative for a in response.answers) if negative is None else negative
    session.add(response)
    session.flush()
    record_answer_themes(session, response.answers)  # as submitting it does
    return response
