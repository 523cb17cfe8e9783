"""Delighted's shapes out: people, survey responses, suppressions, and errors.

Timestamps are Unix seconds and ids are strings, as Delighted wrote them.
Errors keep Delighted's shape, `{"status", "message", "errors"}`, served as
`application/json`, so that an integration's existing error handling keeps
working (`errors` names each field with its messages, exactly as the
`/api/v1` problem documents do); `detail` adds a sentence for people.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify
from werkzeug.http import HTTP_STATUS_CODES

from surveys.models import Answer, Customer, Question
from surveys.models import Response as SurveyResponse
from surveys.models.surveys import SurveyStatus
from surveys.services.customers.people import PersonResult

# The heart-to-heart questions Delighted has a field for; other answers are additional.
SCORE_KEY = "recommend"
COMMENT_KEY = "one_thing"
DELIGHTED_QUESTION_TYPES = {"choice": "select_one", "scale": "scale", "text": "free_response"}


# --- errors ---------------------------------------------------------------------------------


def error_response(
    status: int, detail: str | None = None, errors: dict[str, list[str]] | None = None
) -> Response:
    """An error in Delighted's shape: status, message (the reason phrase), errors by field."""
    message = HTTP_STATUS_CODES.get(status, "Error")
    body: dict = {"status": status, "message": message, "detail": detail or message}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Heart to Heart"'
    return response


# --- writing responses ----------------------------------------------------------------------


def unix_time(moment: datetime | None) -> int | None:
    """A timestamp as whole Unix seconds, as Delighted wrote every time."""
    return None if moment is None else int(moment.timestamp())


def person_json(result: PersonResult, properties: dict) -> dict:
    """The person posted, with when their survey goes out (null when it will not)."""
    survey = result.survey
    scheduled = survey is not None and survey.status == SurveyStatus.SCHEDULED
    return {
        **person_summary(result.customer),
        "survey_scheduled_at": unix_time(survey.send_at) if scheduled else None,
        "properties": properties,
    }


def person_summary(customer: Customer) -> dict:
    """A person as Delighted's lists and `expand[]=person` show one."""
    return {
        "id": str(customer.id),
        "email": customer.email,
        "name": customer.name,
        "created_at": unix_time(customer.created_at),
    }


def survey_response_json(response: SurveyResponse, *, permalink: str, expand_person: bool) -> dict:
    """A response in Delighted's shape: `recommend` is the score, `one_thing` the comment."""
    survey = response.survey
    version = response.version
    by_key = {answer.question.key: answer for answer in response.answers}
    score = by_key.get(SCORE_KEY)
    comment = by_key.get(COMMENT_KEY)
    asks_score = any(question.key == SCORE_KEY for question in version.questions)
    return {
        "id": str(response.id),
        "person": person_summary(survey.customer) if expand_person else str(survey.customer_id),
        # The recommend question is the NPS question; other sets say which they are.
        "survey_type": "nps" if asks_score else version.question_set.key,
        "score": _score(score),
        "comment": (comment.value or None) if comment else None,
        "permalink": permalink,
        "created_at": unix_time(response.submitted_at),
        # Responses are never edited after they are submitted.
        "updated_at": unix_time(response.submitted_at),
        "person_properties": {"order_id": survey.purchase.order_id} if survey.purchase else None,
        "notes": [],
        "tags": [],
        "additional_answers": [
            additional_answer_json(answer)
            for answer in response.answers
            if answer.question.key not in (SCORE_KEY, COMMENT_KEY)
            and answer.value not in (None, "")
        ],
    }


def _score(answer: Answer | None) -> int | None:
    if answer is None or answer.value in (None, ""):
        return None
    try:
        return int(answer.value)
    except ValueError:
        return None


def additional_answer_json(answer: Answer) -> dict:
    """Any other answer, as Delighted's additional answers: a choice is a `select_one`."""
    question: Question = answer.question
    value: dict = {"free_response": None, "scale": None, "select_one": None, "select_many": None}
    if question.type == "choice":
        value["select_one"] = {"id": answer.value, "text": question.label_for(answer.value)}
    elif question.type == "scale":
        value["scale"] = _score(answer)
    else:
        value["free_response"] = answer.value
    return {
        "id": str(answer.id),
        "value": value,
        "question": {
            "id": question.key,
            "type": DELIGHTED_QUESTION_TYPES.get(question.type, question.type),
            "text": question.text,
        },
    }


def suppressed_json(customer: Customer, stamp: str) -> dict:
    """An unsubscribed (`stamp="unsubscribed_at"`) or bounced (`"bounced_at"`) person."""
    return {
        "person_id": str(customer.id),
        "email": customer.email,
        "name": customer.name,
        stamp: unix_time(customer.suppressed_at),
    }
