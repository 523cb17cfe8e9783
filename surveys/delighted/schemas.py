"""Delighted's shapes: request parameters in, people, responses and suppressions out.

Delighted's clients send JSON bodies; curl and hand-written integrations send
form fields with `properties[order_id]=…` keys; both are read into one flat
mapping with the bracketed keys nested. Timestamps are Unix seconds and ids
are strings, as Delighted wrote them.

Errors keep Delighted's shape, `{"status", "message", "errors"}`, served as
`application/json`, so that an integration's existing error handling keeps
working (`errors` names each field with its messages, exactly as the
`/api/v1` problem documents do); `detail` adds a sentence for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import Response, jsonify, request
from werkzeug.http import HTTP_STATUS_CODES

from surveys.api.schemas import FieldErrors, read_json_body, validation_problem
from surveys.errors import ApiProblem
from surveys.models import Answer, Customer, Question
from surveys.models import Response as SurveyResponse
from surveys.services.people import PersonInput, PersonResult

MAX_EMAIL = 254
MAX_NAME = 200
MAX_ORDER_ID = 128
# A survey asked a year after the request asks about nothing anyone remembers.
MAX_DELAY_SECONDS = 365 * 24 * 3600
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
MAX_UNIX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BRACKETED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[([^\[\]]+)\]$")
TRUE_WORDS = ("true", "1", "t", "yes", "on")
FALSE_WORDS = ("false", "0", "f", "no", "off")
# The heart-to-heart questions Delighted has a field for; other answers are additional.
SCORE_KEY = "recommend"
COMMENT_KEY = "one_thing"
DELIGHTED_QUESTION_TYPES = {"choice": "select_one", "scale": "scale", "text": "free_response"}
UNIX_TIME_RULE = "must be a Unix timestamp in seconds, like 1763888400"


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


# --- reading requests -----------------------------------------------------------------------


def read_params() -> dict:
    """The request's parameters: the query string, overlaid by a JSON or form body.

    Bracketed form keys (`properties[order_id]`) become nested mappings, as
    Delighted read them. A body that is neither JSON nor form fields is 415.
    """
    params: dict = dict(request.args.items())
    if request.is_json:
        body = read_json_body()
        if not isinstance(body, dict):
            raise validation_problem({"body": ["must be a JSON object"]})
        params.update(body)
    elif request.mimetype in FORM_TYPES:
        params.update(request.form.items())
    elif request.content_length or request.mimetype:
        raise ApiProblem(
            415,
            "Unsupported Media Type",
            "Send the body as JSON (application/json) or as form fields "
            "(application/x-www-form-urlencoded).",
        )
    return _nest_bracketed(params)


def _nest_bracketed(params: dict) -> dict:
    nested: dict = {}
    for key, value in params.items():
        match = BRACKETED.match(key) if isinstance(key, str) else None
        if match is None:
            nested[key] = value
            continue
        name, inner = match.groups()
        group = nested.setdefault(name, {})
        if isinstance(group, dict):
            group[inner] = value
    return nested


@dataclass(frozen=True)
class PersonRequest:
    """A POST /v1/people.json, parsed: what the service needs, and the properties as sent."""

    person: PersonInput
    properties: dict


def parse_person(params: dict) -> PersonRequest:
    """The parameters of POST /v1/people.json, or a 422 naming every bad field."""
    errors = FieldErrors()
    email = parse_email(errors, params.get("email"), "email")
    name = _name(errors, params.get("name"))
    delay = _delay(errors, params.get("delay"))
    send = _boolean(errors, params.get("send"), "send", default=True)
    channel = params.get("channel")
    if channel not in (None, "", "email"):
        errors.add("channel", "must be email: surveys are sent by email only")
    properties = params.get("properties")
    if properties is None or properties == "":
        properties = {}
    if not isinstance(properties, dict):
        errors.add("properties", "must be an object of names and values")
        properties = {}
    order_id = _order_id(errors, properties.get("order_id"))
    errors.raise_if_any()
    return PersonRequest(
        person=PersonInput(email=email, name=name, order_id=order_id, delay=delay, send=send),
        properties=properties,
    )


def parse_email(errors: FieldErrors, value: object, field: str) -> str | None:
    """A valid email address, in lower case, or None with the reason added to `errors`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add(field, "is required")
        return None
    if not isinstance(value, str):
        errors.add(field, "must be a string")
        return None
    if len(value.strip()) > MAX_EMAIL:
        errors.add(field, f"must be at most {MAX_EMAIL} characters")
        return None
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        errors.add(field, f"is not a valid email address: {exc}")
        return None
    return checked.normalized.lower()


def _name(errors: FieldErrors, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add("name", "must be a string")
        return None
    value = value.strip()
    if len(value) > MAX_NAME:
        errors.add("name", f"must be at most {MAX_NAME} characters")
        return None
    return value or None


def _delay(errors: FieldErrors, value: object) -> timedelta | None:
    if value is None or value == "":
        return None
    seconds = _whole_number(value)
    if seconds is None or not 0 <= seconds <= MAX_DELAY_SECONDS:
        errors.add("delay", f"must be a whole number of seconds from 0 to {MAX_DELAY_SECONDS}")
        return None
    return timedelta(seconds=seconds)


def _boolean(errors: FieldErrors, value: object, field: str, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    errors.add(field, "must be true or false")
    return default


def _order_id(errors: FieldErrors, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # JSON clients often send numeric order ids
    if not isinstance(value, str):
        errors.add("properties.order_id", "must be a string")
        return None
    value = value.strip()
    if len(value) > MAX_ORDER_ID:
        errors.add("properties.order_id", f"must be at most {MAX_ORDER_ID} characters")
        return None
    return value or None


def _whole_number(value: object) -> int | None:
    """A non-negative integer from a JSON number or a string of digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        return int(value.strip())
    return None


@dataclass(frozen=True)
class ListQuery:
    """The paging and time window of a list: `since` and `until` both inclusive."""

    since: datetime | None
    until: datetime | None
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def parse_list_query(args, errors: FieldErrors | None = None) -> ListQuery:
    """`since`, `until`, `page` and `per_page` as Delighted took them, or a 422."""
    own_errors = errors is None
    errors = errors or FieldErrors()
    since = _unix_time(errors, args.get("since"), "since")
    until = _unix_time(errors, args.get("until"), "until")
    page = _bounded(errors, args.get("page"), "page", 1, MAX_PAGE, default=1)
    per_page = _bounded(
        errors, args.get("per_page"), "per_page", 1, MAX_PER_PAGE, default=DEFAULT_PER_PAGE
    )
    if own_errors:
        errors.raise_if_any()
    # Delighted's stamps are whole seconds: `until` takes in all of its last second.
    until_end = until + timedelta(seconds=1) if until else None
    return ListQuery(since=since, until=until_end, page=page, per_page=per_page)


@dataclass(frozen=True)
class ResponseQuery:
    """GET /v1/survey_responses.json's parameters."""

    window: ListQuery
    newest_first: bool
    person_email: str | None
    expand_person: bool


def parse_response_query(args) -> ResponseQuery:
    """The list parameters plus `order`, `person_email` and `expand[]=person`, or a 422."""
    errors = FieldErrors()
    window = parse_list_query(args, errors)
    order = args.get("order", "asc")
    if order not in ("asc", "desc"):
        errors.add("order", "must be asc or desc")
    person_email = None
    if args.get("person_email"):
        person_email = parse_email(errors, args["person_email"], "person_email")
    errors.raise_if_any()
    expand = args.getlist("expand[]") + args.getlist("expand")
    return ResponseQuery(
        window=window,
        newest_first=order == "desc",
        person_email=person_email,
        expand_person="person" in expand,
    )


def _unix_time(errors: FieldErrors, value: str | None, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    seconds = _whole_number(value)
    if seconds is None or seconds > MAX_UNIX_TIME:
        errors.add(field, UNIX_TIME_RULE)
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _bounded(
    errors: FieldErrors, value: str | None, field: str, low: int, high: int, *, default: int
) -> int:
    if value is None or value == "":
        return default
    number = _whole_number(value)
    if number is None or not low <= number <= high:
        errors.add(field, f"must be a whole number from {low} to {high}")
        return default
    return number


# --- writing responses ----------------------------------------------------------------------


def unix_time(moment: datetime | None) -> int | None:
    """A timestamp as whole Unix seconds, as Delighted wrote every time."""
    return None if moment is None else int(moment.timestamp())


def person_json(result: PersonResult, properties: dict) -> dict:
    """The person posted, with when their survey goes out (null when it will not)."""
    survey = result.survey
    scheduled = survey is not None and survey.status == "scheduled"
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
