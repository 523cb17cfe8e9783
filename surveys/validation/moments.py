"""Moments: RFC 3339 timestamps and Unix seconds, within the range Python and the databases hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from surveys.validation.errors import problem

# Dates we accept: wide enough for any real purchase or filter, narrow enough that
# adding a delay or a window to them never leaves what Python and the databases hold.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def within_accepted_range(moment: datetime) -> datetime:
    """The moment, or a refusal when it lies outside the years we accept."""
    if not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
        raise problem(
            f"must be between {EARLIEST_MOMENT.year} and {LATEST_MOMENT.year - 1} "
            "(the year is out of range)"
        )
    return moment


def parse_rfc3339(value: object) -> datetime | None:
    """An aware UTC datetime from an RFC 3339 string, or None when it is not one we accept."""
    try:
        return read_timestamp(value)
    except PydanticCustomError:
        return None


def read_timestamp(value: Any) -> datetime:
    """An RFC 3339 date-time with an offset, as an aware UTC datetime in the accepted range."""
    message = "must be an RFC 3339 date-time with an offset, like 2026-11-22T10:00:00Z"
    if not isinstance(value, str) or not RFC3339.match(value):
        raise problem(message)
    text = value.upper().replace(" ", "T")
    # fromisoformat takes at most six fractional digits; RFC 3339 allows any number.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:  # a 30th of February, an hour 25…
        raise problem(message) from None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise problem("is out of range (the year must be between 1900 and 8999)") from None
    return within_accepted_range(moment)


def read_unix_seconds(value: Any) -> datetime:
    """Unix seconds (an integer, or a string of digits) as an aware UTC datetime."""
    if isinstance(value, bool):
        raise problem("must be a Unix timestamp in seconds")
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,20}", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise problem("must be a Unix timestamp in seconds")
    earliest, latest = EARLIEST_MOMENT.timestamp(), LATEST_MOMENT.timestamp()
    if not earliest <= value < latest:
        raise problem(
            f"must be between {int(earliest)} and {int(latest) - 1} "
            f"(the years {EARLIEST_MOMENT.year} to {LATEST_MOMENT.year - 1})"
        )
    return datetime.fromtimestamp(value, UTC)


def _optional_timestamp(value: Any) -> datetime | None:
    return None if value is None else read_timestamp(value)


# What read_timestamp takes, as a pattern for the OpenAPI description. Its years stop one
# short of the accepted range at each end, so that no offset can carry a moment past it.
TIMESTAMP_PATTERN = (
    r"^(?:190[1-9]|19[1-9]\d|[2-7]\d{3}|8[0-8]\d{2}|89[0-8]\d)"
    r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"[Tt](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)
_TIMESTAMP_DESCRIPTION = (
    f"RFC 3339 with an offset, like 2026-11-22T10:00:00Z, between the years "
    f"{EARLIEST_MOMENT.year} and {LATEST_MOMENT.year - 1} (UTC)."
)
Timestamp = Annotated[
    datetime,
    BeforeValidator(read_timestamp),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": TIMESTAMP_PATTERN,
            "description": _TIMESTAMP_DESCRIPTION,
        }
    ),
]
OptionalTimestamp = Annotated[
    datetime | None,
    BeforeValidator(_optional_timestamp),
    WithJsonSchema(
        {
            "type": ["string", "null"],
            "format": "date-time",
            "pattern": TIMESTAMP_PATTERN,
            "description": _TIMESTAMP_DESCRIPTION,
        }
    ),
]
