"""The API's shapes: reading JSON bodies and query strings in, writing JSON out.

Parsing turns a request into the services' plain inputs (or a 422 naming each
bad field by its dotted path, `items.0.quantity`); the `*_json` functions are
the only place a model becomes JSON. `OPENAPI_SCHEMAS` describes the same
shapes for /api/v1/openapi.json, and the tests hold the two together.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from surveys.errors import ApiProblem
from surveys.models import Answer, Case, CaseEvent, Question, Response
from surveys.services.purchases import CustomerInput, ItemInput, PurchaseInput, PurchaseResult

MAX_ORDER_ID = 128
MAX_NAME = 200
MAX_EMAIL = 254
MAX_ITEMS = 1000
# Numeric(14, 2): twelve digits before the point.
MAX_MONEY = Decimal("999999999999.99")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


# --- reading requests -----------------------------------------------------------------------


def read_json_body() -> object:
    """The request's JSON body: 415 unless it is sent as JSON, 400 when it does not parse.

    Bodies over MAX_CONTENT_LENGTH answer 413, also when they arrive chunked
    without a Content-Length.
    """
    if not request.is_json:
        raise ApiProblem(
            415,
            "Unsupported Media Type",
            "Send the body as JSON with Content-Type: application/json.",
        )
    raw = request.get_data(cache=False)  # 413 here when Content-Length is over the limit
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # Werkzeug stops reading a streamed body at the limit without complaint;
        # one more byte from the server's own stream tells whether it was over.
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8 too; RecursionError, absurdly deep nesting.
        raise ApiProblem(400, "Malformed JSON", f"The body is not valid JSON: {exc}") from None


class FieldErrors:
    """Collects messages by dotted field path, so one 422 names every bad field."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_problem(self.errors)


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


def parse_purchase(data: object) -> PurchaseInput:
    """A POST /purchases body as a PurchaseInput, or a 422 naming every bad field."""
    purchase_input, errors = check_purchase(data)
    if errors:
        raise validation_problem(errors)
    return purchase_input


def check_purchase(data: object) -> tuple[PurchaseInput | None, dict[str, list[str]]]:
    """A purchase in the API's shape as a PurchaseInput, or None and every bad field's messages.

    The rules the API answers 422 with; the CSV import checks each row with them too.
    """
    errors = FieldErrors()
    if not isinstance(data, dict):
        errors.add("body", "must be a JSON object")
        return None, errors.errors

    order_id = _text(errors, data, "order_id", "order_id", MAX_ORDER_ID, required=True)
    customer = _parse_customer(errors, data.get("customer"))
    purchased_at = _timestamp(errors, data.get("purchased_at"), "purchased_at")
    total = _money(errors, data.get("total"), "total")
    currency = _currency(errors, data.get("currency"))
    items = _parse_items(errors, data.get("items"))
    owner_email = _owner_email(errors, data.get("owner_email"))
    if errors.errors:
        return None, errors.errors
    return PurchaseInput(
        order_id=order_id,
        customer=customer,
        purchased_at=purchased_at,
        total=total,
        currency=currency,
        items=items,
        owner_email=owner_email,
    ), {}


def _parse_customer(errors: FieldErrors, data: object) -> CustomerInput | None:
    if data is None:
        errors.add("customer.email", "is required")
        return None
    if not isinstance(data, dict):
        errors.add("customer", "must be an object")
        return None
    email = _customer_email(errors, data.get("email"))
    name = _text(errors, data, "name", "customer.name", MAX_NAME)
    external_id = _text(errors, data, "id", "customer.id", MAX_ORDER_ID)
    timezone = _timezone(errors, data.get("timezone"))
    if email is None:
        return None
    return CustomerInput(email=email, name=name, external_id=external_id, timezone=timezone)


def _parse_items(errors: FieldErrors, data: object) -> tuple[ItemInput, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        errors.add("items", "must be a list of objects")
        return ()
    if len(data) > MAX_ITEMS:
        errors.add("items", f"must have at most {MAX_ITEMS} items")
        return ()
    items = []
    for index, item in enumerate(data):
        path = f"items.{index}"
        if not isinstance(item, dict):
            errors.add(path, "must be an object")
            continue
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            errors.add(f"{path}.quantity", "must be a whole number of at least 1")
        elif quantity > 1_000_000:
            errors.add(f"{path}.quantity", "must be at most 1000000")
        items.append(
            ItemInput(
                sku=_text(errors, item, "sku", f"{path}.sku", 128),
                name=_text(errors, item, "name", f"{path}.name", 300),
                category=_text(errors, item, "category", f"{path}.category", 128),
                quantity=quantity if isinstance(quantity, int) else 1,
                unit_price=_money(errors, item.get("unit_price"), f"{path}.unit_price"),
            )
        )
    return tuple(items)


def _text(
    errors: FieldErrors, data: dict, key: str, path: str, max_length: int, *, required: bool = False
) -> str | None:
    """A trimmed string field; blank counts as absent."""
    value = data.get(key)
    if value is None:
        if required:
            errors.add(path, "is required")
        return None
    if not isinstance(value, str):
        errors.add(path, "must be a string")
        return None
    value = value.strip()
    if not value:
        if required:
            errors.add(path, "is required")
        return None
    if len(value) > max_length:
        errors.add(path, f"must be at most {max_length} characters")
        return None
    return value


def _customer_email(errors: FieldErrors, value: object) -> str | None:
    if value is None or value == "":
        errors.add("customer.email", "is required")
        return None
    if not isinstance(value, str):
        errors.add("customer.email", "must be a string")
        return None
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        errors.add("customer.email", f"is not a valid email address: {exc}")
        return None
    return checked.normalized.lower()


def _owner_email(errors: FieldErrors, value: object) -> str | None:
    # Whether it names an owner is the service's question; here only the shape.
    if value is None or value == "":
        return None
    if not isinstance(value, str) or "@" not in value or len(value) > MAX_EMAIL:
        errors.add("owner_email", "must be an email address")
        return None
    return value.strip().lower()


def _timezone(errors: FieldErrors, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.add("customer.timezone", "must be a string")
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("customer.timezone", "is not an IANA time zone (like Europe/Madrid)")
        return None
    return value


def _timestamp(errors: FieldErrors, value: object, path: str) -> datetime | None:
    if value is None:
        return None
    moment = parse_rfc3339(value)
    if moment is None:
        errors.add(path, "must be an RFC 3339 date-time with an offset, like 2026-11-22T10:00:00Z")
    return moment


def parse_rfc3339(value: object) -> datetime | None:
    """An aware UTC datetime from an RFC 3339 string, or None when it is not one."""
    if not isinstance(value, str) or not RFC3339.match(value):
        return None
    text = value.upper().replace(" ", "T")
    # fromisoformat takes at most six fractional digits; RFC 3339 allows any number.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:  # a 30th of February, an hour 25…
        return None


def _money(errors: FieldErrors, value: object, path: str) -> Decimal | None:
    if value is None:
        return None
    amount = _decimal(value)
    if amount is None:
        errors.add(path, 'must be a decimal number, like "129.90"')
    elif amount < 0:
        errors.add(path, "must not be negative")
    elif amount > MAX_MONEY:
        errors.add(path, f"must be at most {MAX_MONEY}")
    elif amount != amount.quantize(Decimal("0.01")):
        errors.add(path, "must have at most 2 decimal places")
    else:
        return amount.quantize(Decimal("0.01"))
    return None


def _decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON number or a plain decimal string ("129.90")."""
    if isinstance(value, str):
        text = value.strip()
        if not DECIMAL.match(text):
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # str() of a float is its shortest form: 129.9, not 129.900000000000005684…
        text = str(value)
    else:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _currency(errors: FieldErrors, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CURRENCY.match(value):
        errors.add("currency", "must be a three-letter ISO 4217 code, like EUR")
        return None
    return value.upper()


def parse_limit(args) -> int:
    """The `limit` query parameter: 1 to 100, 50 when absent."""
    raw = args.get("limit")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise validation_problem({"limit": [f"must be a whole number from 1 to {MAX_PAGE_SIZE}"]})
    return int(raw)


def encode_cursor(moment: datetime, row_id: int) -> str:
    """An opaque position in a list ordered by (moment, id)."""
    raw = f"{moment.astimezone(UTC).isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    """The position an encode_cursor value stands for, or a 422 naming `cursor`."""
    try:
        padded = value + "=" * (-len(value) % 4)
        moment_text, _, id_text = base64.urlsafe_b64decode(padded).decode().partition("|")
        moment = datetime.fromisoformat(moment_text)
        if moment.tzinfo is None or not id_text.isdigit():
            raise ValueError(value)
        return moment.astimezone(UTC), int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise validation_problem({"cursor": ["is not a cursor this API gave out"]}) from None


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


def case_json(case: Case, reasons: Iterable[Answer], comments: Iterable[CaseEvent]) -> dict:
    """A case as CONTRACT §4 shows it; `reasons` and `comments` are loaded by the caller."""
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
    """A completed response as CONTRACT §4 shows it."""
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
_MONEY = {
    "oneOf": [
        {"type": "string", "pattern": r"^\s*\d{1,12}(\.\d{1,2})?\s*$"},
        {"type": "number", "minimum": 0, "maximum": 999999999999.99},
        {"type": "null"},
    ],
    "description": "A non-negative amount with at most two decimals; a string keeps it exact.",
}
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
    "PurchaseInput": {
        "type": "object",
        "description": "Only `order_id` and `customer.email` are required; unknown fields "
        "are ignored.",
        "required": ["order_id", "customer"],
        "properties": {
            "order_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_ORDER_ID,
                "description": "Your order id; posting it again creates nothing.",
            },
            "customer": {
                "type": "object",
                "required": ["email"],
                "properties": {
                    "email": {"type": "string", "format": "email", "maxLength": MAX_EMAIL},
                    "name": {"type": ["string", "null"], "maxLength": MAX_NAME},
                    "id": {
                        "type": ["string", "null"],
                        "maxLength": MAX_ORDER_ID,
                        "description": "The customer's id in your system.",
                    },
                    "timezone": {
                        "type": ["string", "null"],
                        "description": "An IANA time zone, like Europe/Madrid.",
                    },
                },
            },
            "purchased_at": {
                **_NULLABLE_TIMESTAMP,
                "description": "RFC 3339 with an offset; defaults to now. "
                "Purchases older than the age limit (30 days by "
                "default) are recorded but not surveyed.",
            },
            "total": _MONEY,
            "currency": {"type": ["string", "null"], "pattern": "^[A-Za-z]{3}$"},
            "items": {
                "type": "array",
                "maxItems": MAX_ITEMS,
                "items": {
                    "type": "object",
                    "properties": {
                        "sku": {"type": ["string", "null"], "maxLength": 128},
                        "name": {"type": ["string", "null"], "maxLength": 300},
                        "category": {"type": ["string", "null"], "maxLength": 128},
                        "quantity": {"type": "integer", "minimum": 1, "default": 1},
                        "unit_price": _MONEY,
                    },
                },
            },
            "owner_email": {
                "type": ["string", "null"],
                "description": "An existing owner (or admin), who becomes the "
                "customer's account owner.",
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
                "required": ["id", "status", "send_at"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "integer"},
                    "status": {
                        "type": "string",
                        "description": "At purchase time: `scheduled`, `throttled` (surveyed "
                        "recently), `suppressed` (unsubscribed or bounced) or "
                        "`skipped` (purchase too old); later `sent`, `answered`…",
                    },
                    "send_at": {
                        **_NULLABLE_TIMESTAMP,
                        "description": "When it goes out; null when it never will.",
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
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["open", "acknowledged", "resolved", "closed"]},
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
