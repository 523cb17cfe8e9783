"""Delighted's shapes out: people, survey responses, suppressions, and errors.

Timestamps are Unix seconds and ids are strings, as Delighted wrote them.
Errors keep Delighted's shape, `{"status", "message", "errors"}`, served as
`application/json`, so that an integration's existing error handling keeps
working (`errors` names each field with its messages, exactly as the
`/api/v1` problem documents do); `detail` adds a sentence for people.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response

from surveys.delighted.queries import Activity, person_properties_of
from surveys.errors import delighted_error_response
from surveys.models import Answer, AutopilotMembership, Customer, Question, ResponseNote
from surveys.models import Response as SurveyResponse
from surveys.models.surveys import SurveyStatus
from surveys.services.customers.people import PersonResult
from surveys.services.insights.scores import NetScore

# The heart-to-heart questions Delighted has a field for; other answers are additional.
SCORE_KEY = "recommend"
COMMENT_KEY = "one_thing"
DELIGHTED_QUESTION_TYPES = {"choice": "select_one", "scale": "scale", "text": "free_response"}


# --- errors ---------------------------------------------------------------------------------


def error_response(
    status: int, detail: str | None = None, errors: dict[str, list[str]] | None = None
) -> Response:
    """An error in Delighted's shape: status, message (the reason phrase), errors by field."""
    return delighted_error_response(status, detail, errors)


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
        # The customer's answers are never edited; notes and tags may be.
        "updated_at": unix_time(response.updated_at or response.submitted_at),
        "person_properties": person_properties_of(survey.purchase),
        "notes": [note_json(note) for note in response.notes],
        "tags": list(response.tags or []),
        "additional_answers": [
            additional_answer_json(answer)
            for answer in response.answers
            if answer.question.key not in (SCORE_KEY, COMMENT_KEY)
            and answer.value not in (None, "")
        ],
    }


def note_json(note: ResponseNote) -> dict:
    """A note on a response; `user_email` is null: integrations write them, not people."""
    return {
        "id": str(note.id),
        "text": note.text,
        "user_email": None,
        "created_at": unix_time(note.created_at),
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


def listed_person_json(customer: Customer, activity: Activity | None) -> dict:
    """A person as `GET /v1/people` lists them (no phone numbers are kept here)."""
    activity = activity or Activity()
    return {
        **person_summary(customer),
        "phone_number": None,
        "last_sent_at": unix_time(activity.last_sent_at),
        "last_responded_at": unix_time(activity.last_responded_at),
        "next_survey_scheduled_at": unix_time(activity.next_survey_scheduled_at),
    }


def metrics_json(score: NetScore) -> dict:
    """Delighted's metrics: the net score and each group's count and share, in whole numbers."""
    shares = score.shares
    return {
        "nps": round(score.score) if score.score is not None else 0,
        "promoter_count": score.promoters,
        "promoter_percent": _percent(shares["promoters"]),
        "passive_count": score.passives,
        "passive_percent": _percent(shares["passives"]),
        "detractor_count": score.detractors,
        "detractor_percent": _percent(shares["detractors"]),
        "response_count": score.answers,
    }


def _percent(share: float | None) -> int:
    return 0 if share is None else round(100 * share)


def autopilot_configuration_json(frequency_seconds: int, changed_at: datetime | None) -> dict:
    """The email Autopilot: always on, at the configured interval."""
    return {
        "platform_id": "email",
        "active": True,
        "frequency": frequency_seconds,
        "created_at": unix_time(changed_at),
        "updated_at": unix_time(changed_at),
    }


def membership_json(membership: AutopilotMembership) -> dict:
    """A member and their next Autopilot invitation."""
    return {
        "created_at": unix_time(membership.created_at),
        "updated_at": unix_time(membership.updated_at),
        "person": {**person_summary(membership.customer), "phone_number": None},
        "next_survey_request": {
            "id": str(membership.id),
            "created_at": unix_time(membership.updated_at),
            "survey_scheduled_at": unix_time(membership.next_invite_at),
            "properties": dict(membership.properties or {}),
        },
    }
