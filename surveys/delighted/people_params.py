"""Parameters of the people and Autopilot endpoints: cursors, identifiers, memberships.

Delighted paged people and Autopilot memberships by cursor: each page's `Link`
header names the next (`page_info`, here the last id shown), and its clients
follow it. People are found by id or email; we keep no phone numbers, so a phone
number is a 422 that says so rather than an empty answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from surveys.api.schemas import validation_problem
from surveys.delighted.params import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    UnixFilter,
    _blank_as_empty,
    _problem,
    _read,
    _whole_number,
    read_filters,
)
from surveys.errors import ApiProblem
from surveys.validation.addresses import OptionalEmailAddress, read_email
from surveys.validation.text import OptionalText, unencodable_text_reason

MAX_ID = 2**63 - 1
MAX_PROPERTIES = 50
MAX_PROPERTY_NAME = 64
MAX_PROPERTY_VALUE = 500
NO_PHONES = "phone numbers are not kept here: people are found by id or email"
PersonId = Annotated[int | None, _whole_number(1, MAX_ID)]


def _refuse_phone(value: Any) -> None:
    if value not in (None, ""):
        raise _problem(NO_PHONES)
    return None


NoPhone = Annotated[None, BeforeValidator(_refuse_phone)]


def _text_properties(value: Any) -> dict[str, str]:
    """Properties as text: at most 50, names ≤ 64 and values ≤ 500 characters."""
    value = _blank_as_empty(value)
    if not isinstance(value, dict):
        raise _problem("must be an object of names and values")
    if len(value) > MAX_PROPERTIES:
        raise _problem(f"must have at most {MAX_PROPERTIES} properties")
    properties = {}
    for name, given in value.items():
        text = given if isinstance(given, str) else str(given)
        reason = unencodable_text_reason(name) or unencodable_text_reason(text)
        if reason:
            raise _problem(f"{name!r} {reason}")
        if not name or len(name) > MAX_PROPERTY_NAME or len(text) > MAX_PROPERTY_VALUE:
            raise _problem(
                f"names must have 1 to {MAX_PROPERTY_NAME} characters and values at most "
                f"{MAX_PROPERTY_VALUE}"
            )
        properties[name] = text
    return properties


TextProperties = Annotated[dict[str, str], BeforeValidator(_text_properties)]


class Cursor(BaseModel):
    """A page after the cursor (`page_info`), `per_page` long."""

    model_config = ConfigDict(extra="forbid")

    per_page: Annotated[int | None, _whole_number(1, MAX_PER_PAGE)] = None
    page_info: PersonId = None

    @property
    def limit(self) -> int:
        return self.per_page or DEFAULT_PER_PAGE


class PeopleQuery(Cursor):
    """GET /v1/people: created in a window, one address, a page after the cursor."""

    since: UnixFilter = None
    until: UnixFilter = None
    email: OptionalEmailAddress = None
    phone_number: NoPhone = None


class MembershipQuery(Cursor):
    """GET /v1/autopilot/email/memberships: every member, or one person's membership."""

    person_id: PersonId = None
    person_email: OptionalEmailAddress = None
    person_phone_number: NoPhone = None


class MembershipParams(BaseModel):
    """POST /v1/autopilot/email/memberships: who joins, with what properties."""

    model_config = ConfigDict(extra="ignore")

    person_email: OptionalEmailAddress = None
    person_id: PersonId = None
    person_name: OptionalText(200) = None
    person_phone_number: NoPhone = None
    properties: TextProperties = Field(default_factory=dict)


class MemberToRemove(BaseModel):
    """DELETE /v1/autopilot/email/memberships: exactly one of id or email."""

    model_config = ConfigDict(extra="ignore")

    person_email: OptionalEmailAddress = None
    person_id: PersonId = None
    person_phone_number: NoPhone = None


def parse_people_query(args) -> PeopleQuery:
    return read_filters(PeopleQuery, args.to_dict())


def parse_membership_query(args) -> MembershipQuery:
    return read_filters(MembershipQuery, args.to_dict())


def parse_membership(params: dict) -> MembershipParams:
    """Who joins Autopilot (an email, or the id of a person we know), or a 422."""
    parsed = _read(MembershipParams, params)
    if parsed.person_email is None and parsed.person_id is None:
        raise validation_problem({"person_email": ["is required (or person_id)"]})
    return parsed


def parse_member_to_remove(params: dict) -> MemberToRemove:
    """Exactly one of `person_id` and `person_email`, or a 422."""
    parsed = _read(MemberToRemove, params)
    if (parsed.person_email is None) == (parsed.person_id is None):
        raise validation_problem({"person_email": ["give exactly one of person_email, person_id"]})
    return parsed


def parse_person_identifier(identifier: str) -> tuple[str, int | str]:
    """`123`, `email:ana@example.com` or `phone_number:+1555…` as ("id", 123) or ("email", …).

    An identifier of no person is a 404, as Delighted answered; a phone number is a 422.
    """
    kind, separator, value = identifier.partition(":")
    if not separator:
        if identifier.isascii() and identifier.isdigit() and 0 < int(identifier) <= MAX_ID:
            return "id", int(identifier)
        raise ApiProblem(404, "Not Found", "No person has this id.")
    if kind == "email":
        try:
            return "email", read_email(value)
        except ValueError:
            raise ApiProblem(404, "Not Found", "No person has this email.") from None
    if kind == "phone_number":
        raise validation_problem({"phone_number": [NO_PHONES]})
    raise ApiProblem(404, "Not Found", "Name the person by id, email:… or phone_number:….")
