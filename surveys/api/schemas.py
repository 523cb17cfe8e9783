"""The API's shapes: answering 422 and writing JSON out (read by the API and webhooks out alike).

What each request may hold is a pydantic model in `surveys.api.inputs`; the
`*_json` functions here are the only place a model becomes JSON, and
`OPENAPI_SCHEMAS` describes those answers for /api/v1/openapi.json (the tests
and schemathesis hold the two together).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from surveys.errors import ApiProblem
from surveys.models import Answer, Case, CaseEvent, Question, Response
from surveys.models.cases import CASE_STATUSES
from surveys.services.cases import conversation
from surveys.services.purchases import PurchaseResult
from surveys.services.surveys.scheduling import survey_reason


def validation_problem(errors: dict[str, list[str]]) -> ApiProblem:
    """The 422 problem for field errors."""
    fields = ", ".join(errors)
    return ApiProblem(
        422,
        "Unprocessable Content",
        f"Some fields are not valid: {fields}.",
        errors=errors,
        type_="validation-error",
    )


# --- writing responses ----------------------------------------------------------------------


def rfc3339(moment: datetime | None) -> str | None:
    """A UTC timestamp as RFC 3339 with a `Z`."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def purchase_json(result: PurchaseResult) -> dict:
    """The receipt for a posted purchase: the same body for the first post and any repeat."""
    survey = result.survey
    return {
        "id": result.purchase.id,
        "order_id": result.purchase.order_id,
        "customer_id": result.purchase.customer_id,
        "survey": None
        if survey is None
        else {
            "id": survey.id,
            "status": survey.status,
            "send_at": rfc3339(survey.send_at),
            "reason": survey_reason(survey),
        },
    }


def reason_json(answer: Answer) -> dict:
    """A negative answer as the customer gave it: the question, and the words they chose."""
    question: Question = answer.question
    return {"question": question.text, "answer": question.label_for(answer.value)}


def comment_json(event: CaseEvent) -> dict:
    """An internal note from a case's timeline."""
    return {
        "body": event.body,
        "author": event.actor_label,
        "created_at": rfc3339(event.created_at),
    }


def timeline_entry_json(entry: conversation.Entry) -> dict:
    """One line of a case's conversation."""
    return {
        "kind": entry.kind,
        "author": entry.author,
        "body": entry.body,
        "created_at": rfc3339(entry.created_at),
    }


def case_json(case: Case, reasons: Iterable[Answer], comments: Iterable[CaseEvent]) -> dict:
    """A case as the API shows it; `reasons` and `comments` are loaded by the caller, with
    the case's events and answers (its timeline)."""
    return {
        "id": case.id,
        "status": case.status,
        # null while the case waits for an owner (nobody could own it when it opened).
        "owner": {"email": case.owner.email, "name": case.owner.name} if case.owner else None,
        "customer": {"email": case.customer.email, "name": case.customer.name},
        "order_id": case.purchase.order_id if case.purchase else None,
        "reasons": [reason_json(answer) for answer in reasons],
        "comments": [comment_json(event) for event in comments],
        "created_at": rfc3339(case.created_at),
        "acknowledge_by": rfc3339(case.acknowledge_by),
        "acknowledged_at": rfc3339(case.acknowledged_at),
        "resolved_at": rfc3339(case.resolved_at),
        "closed_at": rfc3339(case.closed_at),
        "escalated": case.escalated,
        "waiting_on": conversation.waiting_on(case),
        "reopened": conversation.reopened_count(case),
        "timeline": [timeline_entry_json(entry) for entry in conversation.timeline(case)],
    }


def answer_value(answer: Answer) -> str | int | None:
    """A scale answer as the number it is; other answers as the text stored."""
    if answer.question.type == "scale" and answer.value is not None:
        try:
            return int(answer.value)
        except ValueError:
            return answer.value
    return answer.value


def response_json(response: Response) -> dict:
    """A completed response as the API shows it."""
    survey = response.survey
    return {
        "id": response.id,
        "survey_id": response.survey_id,
        "order_id": survey.purchase.order_id if survey.purchase else None,
        "customer_email": survey.customer.email,
        "question_set": response.version.question_set.key,
        "version": response.version.number,
        "answers": {answer.question.key: answer_value(answer) for answer in response.answers},
        "negative": response.negative,
        "submitted_at": rfc3339(response.submitted_at),
    }


# --- the same shapes, for the OpenAPI document ----------------------------------------------

_TIMESTAMP = {"type": "string", "format": "date-time"}
_NULLABLE_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
_PERSON = {
    "type": "object",
    "required": ["email", "name"],
    "additionalProperties": False,
    "properties": {"email": {"type": "string"}, "name": {"type": ["string", "null"]}},
}

OPENAPI_SCHEMAS: dict[str, dict] = {
    "Problem": {
        "type": "object",
        "description": "An RFC 9457 problem document (application/problem+json).",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "description": "On 422: messages by field, named by dotted path "
                "(`customer.email`, `items.0.quantity`).",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "PurchaseReceipt": {
        "type": "object",
        "required": ["id", "order_id", "customer_id", "survey"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "order_id": {"type": "string"},
            "customer_id": {"type": "integer"},
            "survey": {
                "type": ["object", "null"],
                "required": ["id", "status", "send_at", "reason"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "integer"},
                    "status": {
                        "type": "string",
                        "description": "At purchase time: `scheduled`, `throttled` (surveyed "
                        "recently), `suppressed` (unsubscribed or bounced), `skipped` "
                        "(purchase too old) or `held` (the customer has a case open: decided "
                        "again when it closes); later `sent`, `answered`, `cancelled` (the "
                        "order was refunded or cancelled)…",
                    },
                    "send_at": {
                        **_NULLABLE_TIMESTAMP,
                        "description": "When it goes out; null when it never will.",
                    },
                    "reason": {
                        "type": ["string", "null"],
                        "description": "Why it is not `scheduled`, in a sentence; null while "
                        "it is.",
                    },
                },
            },
        },
    },
    "Case": {
        "type": "object",
        "required": [
            "id",
            "status",
            "owner",
            "customer",
            "order_id",
            "reasons",
            "comments",
            "created_at",
            "acknowledge_by",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "escalated",
            "waiting_on",
            "reopened",
            "timeline",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": list(CASE_STATUSES)},
            "owner": {
                "oneOf": [_PERSON, {"type": "null"}],
                "description": "Null while the case waits for an owner: nobody could own it "
                "when it opened (no active admin, no default owner). It is routed as soon as "
                "someone can take it.",
            },
            "customer": _PERSON,
            "order_id": {"type": ["string", "null"]},
            "reasons": {
                "type": "array",
                "description": "The negative answers: each question and the customer's words.",
                "items": {
                    "type": "object",
                    "required": ["question", "answer"],
                    "additionalProperties": False,
                    "properties": {
                        "question": {"type": "string"},
                        "answer": {"type": ["string", "null"]},
                    },
                },
            },
            "comments": {
                "type": "array",
                "description": "Internal notes, never shown to the customer.",
                "items": {
                    "type": "object",
                    "required": ["body", "author", "created_at"],
                    "additionalProperties": False,
                    "properties": {
                        "body": {"type": ["string", "null"]},
                        "author": {"type": "string"},
                        "created_at": _TIMESTAMP,
                    },
                },
            },
            "created_at": _TIMESTAMP,
            "acknowledge_by": {
                **_NULLABLE_TIMESTAMP,
                "description": "The owner's deadline, from the moment the case has an owner; "
                "null while it waits for one.",
            },
            "acknowledged_at": _NULLABLE_TIMESTAMP,
            "resolved_at": _NULLABLE_TIMESTAMP,
            "closed_at": _NULLABLE_TIMESTAMP,
            "escalated": {"type": "boolean"},
            "waiting_on": {
                "type": ["string", "null"],
                "enum": ["owner", "customer", None],
                "description": "Whose turn it is: `owner` while the case is open, or when the "
                "customer spoke (replied, or said the fix did not work) after the owner last "
                "wrote; `customer` once resolved (the fix-check) or when the owner wrote last; "
                "null once closed.",
            },
            "reopened": {
                "type": "integer",
                "minimum": 0,
                "description": "How many times the customer said the fix did not work.",
            },
            "timeline": {
                "type": "array",
                "description": "The whole conversation in time order. The first entry, "
                "`survey_answers`, is the customer's answers (one line each, negative ones "
                "marked `(negative)`); then every event: `reply` (the owner to the customer), "
                "`customer_replied`, `note` (internal, never shown to the customer), "
                "`unverified_message` (not verifiably from the customer, never relayed), and "
                "system events (`opened`, `acknowledged`, `reassigned`, `resolved`, `reopened`, "
                "`closed`…).",
                "items": {
                    "type": "object",
                    "required": ["kind", "author", "body", "created_at"],
                    "additionalProperties": False,
                    "properties": {
                        "kind": {"type": "string"},
                        "author": {"type": "string"},
                        "body": {"type": ["string", "null"]},
                        "created_at": _TIMESTAMP,
                    },
                },
            },
        },
    },
    "CasePage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null at the end.",
            },
        },
    },
    "SurveyResponse": {
        "type": "object",
        "required": [
            "id",
            "survey_id",
            "order_id",
            "customer_email",
            "question_set",
            "version",
            "answers",
            "negative",
            "submitted_at",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "survey_id": {"type": "integer"},
            "order_id": {"type": ["string", "null"]},
            "customer_email": {"type": "string"},
            "question_set": {"type": "string", "description": "The question set's key."},
            "version": {"type": "integer", "description": "The version that was answered."},
            "answers": {
                "type": "object",
                "description": "Answered questions by key: a choice's value, a scale's number, "
                "or the text written.",
                "additionalProperties": {"type": ["string", "integer"]},
            },
            "negative": {"type": "boolean"},
            "submitted_at": _TIMESTAMP,
        },
    },
    "SurveyResponsePage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/SurveyResponse"}},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null at the end.",
            },
        },
    },
}
