"""Delighted's request parameters, read and checked: one pydantic model per shape.

Delighted's clients send JSON bodies; curl and hand-written integrations send
form fields with `properties[order_id]=…` keys; both are read into one flat
mapping with the bracketed keys nested, then checked by the model of their
shape. A bad field is a 422 naming it (the views answer it in Delighted's
error shape). Timestamps are Unix seconds, as Delighted wrote them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from flask import request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError
from werkzeug.datastructures import MultiDict

from surveys.api.json_body import read_json_body
from surveys.api.schemas import validation_problem
from surveys.errors import ApiProblem
from surveys.services.customers.people import PersonInput
from surveys.validation.addresses import EmailAddress, OptionalEmailAddress
from surveys.validation.codes import LocaleTag
from surveys.validation.errors import field_errors
from surveys.validation.json_values import StorableJson
from surveys.validation.moments import EARLIEST_MOMENT, LATEST_MOMENT
from surveys.validation.text import OptionalText, unencodable_text_reason

MAX_NAME = 200
MAX_ORDER_ID = 128
# A survey asked a year after the request asks about nothing anyone remembers.
MAX_DELAY_SECONDS = 365 * 24 * 3600
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
# Longer runs of digits are no time at all (and past 4300, Python will not read them).
MAX_UNIX_DIGITS = 40
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BRACKETED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[([^\[\]]+)\]$")
TRUE_WORDS = ("true", "1", "t", "yes", "on")
FALSE_WORDS = ("false", "0", "f", "no", "off")
UNIX_TIME_RULE = "must be a Unix timestamp in seconds, like 1763888400"


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


# --- reading requests -----------------------------------------------------------------------


def read_params() -> dict:
    """The request's parameters: the query string, overlaid by a JSON or form body.

    Bracketed form keys (`properties[order_id]`) become nested mappings, as
    Delighted read them. A body that is neither JSON nor form fields is 415;
    JSON we could not write back (NaN, absurd nesting) is 400.
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


def _read(model: type[BaseModel], params: object):
    """The parameters read as `model`, or a 422 naming every bad field."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise validation_problem(field_errors(exc)) from None


def read_filters(model: type[BaseModel], params: dict):
    """A list's query string read as `model`; a filter it does not have is a 422 naming it.

    An unknown filter is never ignored: a typo (`sinse`) would otherwise list everything.
    """
    unknown = sorted(set(params) - set(model.model_fields))
    if unknown:
        raise validation_problem({name: ["is not a filter of this list"] for name in unknown})
    return _read(model, params)


# --- parameter types ------------------------------------------------------------------------


def _digits(value: Any, max_digits: int = 18) -> int | None:
    """An integer from a JSON number or a string of digits (a form field), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(rf"-?\d{{1,{max_digits}}}", value.strip()):
        return int(value.strip())
    return None


def _delay(value: Any) -> timedelta | None:
    if value is None or value == "":
        return None
    seconds = _digits(value)
    if seconds is None or not 0 <= seconds <= MAX_DELAY_SECONDS:
        raise _problem(f"must be a whole number of seconds from 0 to {MAX_DELAY_SECONDS}")
    return timedelta(seconds=seconds)


def _send(value: Any) -> bool:
    if value is None or value == "":
        return True  # Delighted surveys unless told not to
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise _problem("must be true or false")


def _channel(value: Any) -> str:
    if value not in (None, "", "email"):
        raise _problem("must be email: surveys are sent by email only")
    return "email"


def _number_as_text(value: Any) -> Any:
    # JSON clients often send numeric order ids.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _blank_as_empty(value: Any) -> Any:
    return {} if value is None or value == "" else value


class PersonProperties(BaseModel):
    """`properties`: the order id, if any, and whatever else the sender keeps (echoed back)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, StorableJson]

    order_id: Annotated[OptionalText(MAX_ORDER_ID), BeforeValidator(_number_as_text)] = None
    # Delighted's special property: the language of the person's survey (`es`, `pt-BR`).
    locale: LocaleTag = None

    @model_validator(mode="before")
    @classmethod
    def _storable_names(cls, data: Any) -> Any:
        for name in data if isinstance(data, dict) else ():
            reason = unencodable_text_reason(name)
            if reason:
                raise _problem(f"names {reason}")
        return data


class PersonParams(BaseModel):
    """POST /v1/people.json: who to survey, when, and about which order."""

    model_config = ConfigDict(extra="ignore")  # Delighted's other fields (phone_number…)

    email: EmailAddress
    name: OptionalText(MAX_NAME) = None
    delay: Annotated[timedelta | None, BeforeValidator(_delay)] = None
    send: Annotated[bool, BeforeValidator(_send)] = True
    channel: Annotated[str, BeforeValidator(_channel)] = "email"
    properties: Annotated[PersonProperties, BeforeValidator(_blank_as_empty)] = Field(
        default_factory=PersonProperties
    )

    def person(self) -> PersonInput:
        return PersonInput(
            email=self.email,
            name=self.name,
            order_id=self.properties.order_id,
            locale=self.properties.locale,
            delay=self.delay,
            send=self.send,
            properties=self.custom_properties(),
        )

    def custom_properties(self) -> dict[str, str]:
        """Every property but the order id, as text (Delighted's clients send numbers too)."""
        return {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in (self.properties.__pydantic_extra__ or {}).items()
            if value is not None
        }


def parse_person(params: dict) -> tuple[PersonInput, dict]:
    """The person to survey and the properties as sent (to echo them), or a 422."""
    parsed = _read(PersonParams, params)
    properties = params.get("properties")
    return parsed.person(), properties if isinstance(properties, dict) else {}


class UnsubscribeParams(BaseModel):
    """POST /v1/unsubscribes.json."""

    model_config = ConfigDict(extra="ignore")

    person_email: EmailAddress


def parse_unsubscribe(params: dict) -> str:
    """The address to stop surveying, or a 422."""
    return _read(UnsubscribeParams, params).person_email


def _unix_filter(value: Any) -> datetime | None:
    """Unix seconds, held to the years anything we store can carry.

    Delighted took any integer, and its clients send far-future `until`s (the
    last second of 9999, say) to mean "up to now". No row of ours lies outside
    the years we accept (1900 to 8999), so a bound beyond them is read as no
    bound on that side: the rows found are exactly the ones the number asked for,
    and no date arithmetic ever leaves what Python and the databases hold.
    """
    if value is None or value == "":
        return None
    seconds = _digits(value, MAX_UNIX_DIGITS)
    if seconds is None:
        raise _problem(UNIX_TIME_RULE)
    earliest, latest = int(EARLIEST_MOMENT.timestamp()), int(LATEST_MOMENT.timestamp())
    return datetime.fromtimestamp(min(max(seconds, earliest), latest), UTC)


def _whole_number(low: int, high: int):
    def read(value: Any) -> int | None:
        if value is None or value == "":
            return None
        number = _digits(value)
        if number is None or not low <= number <= high:
            raise _problem(f"must be a whole number from {low} to {high}")
        return number

    return BeforeValidator(read)


UnixFilter = Annotated[datetime | None, BeforeValidator(_unix_filter)]


class ListQuery(BaseModel):
    """A list's page and time window (`since` and `until` both inclusive), as Delighted had."""

    model_config = ConfigDict(extra="ignore")

    since: UnixFilter = None
    until: UnixFilter = None
    page: Annotated[int | None, _whole_number(1, MAX_PAGE)] = None
    per_page: Annotated[int | None, _whole_number(1, MAX_PER_PAGE)] = None

    @property
    def lower_bound(self) -> datetime | None:
        """The earliest moment shown; None when `since` reaches back before anything we hold."""
        return None if self.since in (None, EARLIEST_MOMENT) else self.since

    @property
    def upper_bound(self) -> datetime | None:
        """The first moment not shown; None when `until` reaches past anything we hold."""
        if self.until in (None, LATEST_MOMENT):
            return None
        # Delighted's stamps are whole seconds: `until` takes in all of its last second.
        return self.until + timedelta(seconds=1)

    @property
    def limit(self) -> int:
        return self.per_page or DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return ((self.page or 1) - 1) * self.limit


def _order(value: Any) -> str:
    if value is None or value == "":
        return "asc"
    if value not in ("asc", "desc"):
        raise _problem("must be asc or desc")
    return value


class ResponseQuery(ListQuery):
    """GET /v1/survey_responses: the list parameters, the update window, `order`, whose,
    which question set (`trend`), and `expand`."""

    updated_since: UnixFilter = None
    updated_until: UnixFilter = None
    order: Annotated[str, BeforeValidator(_order)] = "asc"
    person_id: Annotated[int | None, _whole_number(1, 2**63 - 1)] = None
    person_email: OptionalEmailAddress = None
    trend: OptionalText(64) = None
    expand: list[str] = []

    @property
    def updated_lower_bound(self) -> datetime | None:
        return None if self.updated_since in (None, EARLIEST_MOMENT) else self.updated_since

    @property
    def updated_upper_bound(self) -> datetime | None:
        if self.updated_until in (None, LATEST_MOMENT):
            return None
        return self.updated_until + timedelta(seconds=1)

    @property
    def newest_first(self) -> bool:
        return self.order == "desc"

    @property
    def expand_person(self) -> bool:
        return "person" in self.expand


def parse_list_query(args: MultiDict) -> ListQuery:
    """`since`, `until`, `page` and `per_page`, or a 422 (also for any other filter)."""
    return read_filters(ListQuery, args.to_dict())


def parse_response_query(args: MultiDict) -> ResponseQuery:
    """The list parameters plus the update window, `order`, `person_id`, `person_email`,
    `trend` and `expand[]=person`, or a 422 (also for any other filter)."""
    expand = args.getlist("expand[]") + args.getlist("expand")
    given = {name: value for name, value in args.to_dict().items() if name != "expand[]"}
    return read_filters(ResponseQuery, {**given, "expand": expand})
