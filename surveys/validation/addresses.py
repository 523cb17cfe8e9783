"""Email addresses: ones we may send to, and ones that only name someone already recorded."""

from __future__ import annotations

from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BeforeValidator, WithJsonSchema

from surveys.validation.errors import problem
from surveys.validation.text import unstorable_text_reason

MAX_EMAIL_LENGTH = 254


def _address_line(value: Any) -> str:
    """A non-empty, storable single line no longer than any address can be, stripped."""
    if not isinstance(value, str):
        raise problem("must be a string")
    value = value.strip()
    if not value:
        raise problem("is required")
    reason = unstorable_text_reason(value, multiline=False)
    if reason:
        raise problem(reason)
    if len(value) > MAX_EMAIL_LENGTH:
        raise problem(f"must be at most {MAX_EMAIL_LENGTH} characters")
    return value


def read_email(value: Any) -> str:
    """A deliverable address, lower case, its domain in ASCII (IDNA)."""
    value = _address_line(value)
    try:
        # No SMTPUTF8: neither SendGrid nor most receiving servers take a
        # non-ASCII name before the @, so such an address could never be sent to.
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise problem(f"is not a valid email address: {exc}") from None
    # ascii_email spells an international domain in IDNA, which every mail server takes.
    return (checked.ascii_email or checked.normalized).lower()


def _optional_email(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return read_email(value)


EmailAddress = Annotated[
    str,
    BeforeValidator(read_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_EMAIL_LENGTH}),
]
OptionalEmailAddress = Annotated[
    str | None,
    BeforeValidator(_optional_email),
    WithJsonSchema({"type": ["string", "null"], "format": "email", "maxLength": MAX_EMAIL_LENGTH}),
]


def read_address_to_look_up(value: Any) -> str:
    """An address that names someone already recorded: only its shape matters, lower case.

    Owners and customers were checked when they were recorded; an address used to find
    them again (an owner filter, the owner a purchase names) is not held to what a mail
    server takes today, or an owner at an internal domain could never be named.
    """
    value = _address_line(value)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise problem("must be an email address")
    return value.lower()


def _optional_address_to_look_up(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return read_address_to_look_up(value)


_LOOKUP_SCHEMA = {"format": "email", "maxLength": MAX_EMAIL_LENGTH}
EmailToLookUp = Annotated[
    str,
    BeforeValidator(read_address_to_look_up),
    WithJsonSchema({"type": "string", **_LOOKUP_SCHEMA}),
]
OptionalEmailToLookUp = Annotated[
    str | None,
    BeforeValidator(_optional_address_to_look_up),
    WithJsonSchema({"type": ["string", "null"], **_LOOKUP_SCHEMA}),
]
