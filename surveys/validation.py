"""The input types every door shares: text, addresses, dates, money, time zones, whole numbers.

The API, the Delighted endpoints, webhooks in and CSV rows each describe what they
accept as pydantic models built from these types. Whatever the door, a NUL byte
(PostgreSQL cannot store one), a lone surrogate (no UTF-8 can encode one), a date
Python cannot hold, an amount our columns cannot store or a number past what the
database holds is refused at the door with a message, never met later as a 500.

`field_errors` turns pydantic's ValidationError into `{"dotted.path": [message, …]}`,
the shape every 422 of this service names its fields with (`items.0.quantity`).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email
from pydantic import BeforeValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

MAX_EMAIL_LENGTH = 254
MAX_TIMEZONE_LENGTH = 64
# Numeric(14, 2): twelve digits before the point.
MAX_MONEY = Decimal("999999999999.99")
CENT = Decimal("0.01")
# PostgreSQL's `integer`, the type of every id column: a larger id names nothing.
MAX_DATABASE_ID = 2**31 - 1
# No body we read nests deeper than a few levels; far deeper ones only cost stack and time.
MAX_JSON_DEPTH = 32
# Dates we accept: wide enough for any real purchase or filter, narrow enough that
# adding a delay or a window to them never leaves what Python and the databases hold.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def _problem(message: str) -> PydanticCustomError:
    # The message is shown as it is: our messages read as the end of "<field> …".
    return PydanticCustomError("invalid", message)


# --- text ---------------------------------------------------------------------------------


def unstorable_text_reason(value: str, *, multiline: bool = True) -> str | None:
    """Why this text cannot be stored or sent as it is, or None when it can.

    Shared with the forms, which re-show themselves with the same message.
    """
    reason = unencodable_text_reason(value)
    if reason:
        return reason
    allowed = "\n\r\t" if multiline else "\t"
    if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
        return "must not contain control characters" if multiline else "must be a single line"
    return None


def unencodable_text_reason(value: str) -> str | None:
    """Why no database column (or UTF-8 at all) can hold this text, or None when one can.

    Narrower than unstorable_text_reason: for text kept as it came (a provider's
    JSON), where control characters are the sender's business.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it contains a lone surrogate)"
    return None


def _text_reader(max_length: int, *, required: bool, multiline: bool, cut: bool):
    def read(value: Any) -> str | None:
        if value is None:
            if required:
                raise _problem("is required")
            return None
        if not isinstance(value, str):
            raise _problem("must be a string")
        reason = unstorable_text_reason(value, multiline=multiline)
        if reason:
            raise _problem(reason)
        value = value.strip()
        if not value:
            if required:
                raise _problem("is required")
            return None  # blank counts as absent
        if len(value) > max_length:
            if not cut:
                raise _problem(f"must be at most {max_length} characters")
            value = value[:max_length].rstrip()
        return value

    return read


# The same rules as unstorable_text_reason, for the OpenAPI description: no control
# characters (line breaks only in multi-line text) and, for required text, one character
# that is not a space. Lone surrogates cannot be written in a pattern; the description says it.
_CONTROL = r"\x00-\x08\x0a-\x1f\x7f-\x9f"
_MULTILINE_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_TEXT_DESCRIPTION = "No NUL or other control characters, no lone surrogates."


def text_pattern(*, multiline: bool, required: bool) -> str:
    """The JSON Schema pattern of the text Text and OptionalText accept."""
    control = _MULTILINE_CONTROL if multiline else _CONTROL
    if not required:
        return f"^[^{control}]*$"
    return f"^[^{control}]*[^\\s{control}][^{control}]*$"


def _text_schema(max_length: int, *, multiline: bool, required: bool, cut: bool) -> dict:
    schema: dict = {"type": "string"} if required else {"type": ["string", "null"]}
    if required:
        schema["minLength"] = 1
    if not cut:
        schema["maxLength"] = max_length
    schema["pattern"] = text_pattern(multiline=multiline, required=required)
    schema["description"] = _TEXT_DESCRIPTION + ("" if multiline else " One line.")
    return schema


def Text(max_length: int, *, multiline: bool = False, cut: bool = False) -> Any:  # noqa: N802
    """A required string, trimmed, not blank, at most `max_length` characters.

    `multiline` allows line breaks (answers, notes); otherwise it is one line (names,
    ids, anything that may end up in a mail header). `cut` shortens an over-long value
    instead of refusing it (a provider would only send the same long title again).
    """
    schema = _text_schema(max_length, multiline=multiline, required=True, cut=cut)
    reader = _text_reader(max_length, required=True, multiline=multiline, cut=cut)
    return Annotated[str, BeforeValidator(reader), WithJsonSchema(schema)]


def OptionalText(max_length: int, *, multiline: bool = False, cut: bool = False) -> Any:  # noqa: N802
    """Like Text, but absent, null and blank all read as None."""
    schema = _text_schema(max_length, multiline=multiline, required=False, cut=cut)
    reader = _text_reader(max_length, required=False, multiline=multiline, cut=cut)
    return Annotated[str | None, BeforeValidator(reader), WithJsonSchema(schema)]


# --- addresses ----------------------------------------------------------------------------


def read_email(value: Any) -> str:
    """A deliverable address, lower case, its domain in ASCII (IDNA)."""
    if not isinstance(value, str):
        raise _problem("must be a string")
    value = value.strip()
    if not value:
        raise _problem("is required")
    reason = unstorable_text_reason(value, multiline=False)
    if reason:
        raise _problem(reason)
    if len(value) > MAX_EMAIL_LENGTH:
        raise _problem(f"must be at most {MAX_EMAIL_LENGTH} characters")
    try:
        # No SMTPUTF8: neither SendGrid nor most receiving servers take a
        # non-ASCII name before the @, so such an address could never be sent to.
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise _problem(f"is not a valid email address: {exc}") from None
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
    if not isinstance(value, str):
        raise _problem("must be a string")
    value = value.strip()
    if not value:
        raise _problem("is required")
    reason = unstorable_text_reason(value, multiline=False)
    if reason:
        raise _problem(reason)
    if len(value) > MAX_EMAIL_LENGTH:
        raise _problem(f"must be at most {MAX_EMAIL_LENGTH} characters")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise _problem("must be an email address")
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


# --- moments ------------------------------------------------------------------------------


def within_accepted_range(moment: datetime) -> datetime:
    """The moment, or a refusal when it lies outside the years we accept."""
    if not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
        raise _problem(
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
        raise _problem(message)
    text = value.upper().replace(" ", "T")
    # fromisoformat takes at most six fractional digits; RFC 3339 allows any number.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:  # a 30th of February, an hour 25…
        raise _problem(message) from None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise _problem("is out of range (the year must be between 1900 and 8999)") from None
    return within_accepted_range(moment)


def read_unix_seconds(value: Any) -> datetime:
    """Unix seconds (an integer, or a string of digits) as an aware UTC datetime."""
    if isinstance(value, bool):
        raise _problem("must be a Unix timestamp in seconds")
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,20}", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise _problem("must be a Unix timestamp in seconds")
    earliest, latest = EARLIEST_MOMENT.timestamp(), LATEST_MOMENT.timestamp()
    if not earliest <= value < latest:
        raise _problem(
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


# --- money --------------------------------------------------------------------------------


def _money_reader(*, round_to_cents: bool):
    def read(value: Any) -> Decimal | None:
        if value is None or value == "":
            return None
        amount = _decimal(value)
        if amount is None:
            raise _problem('must be a decimal number, like "129.90"')
        if amount < 0:
            raise _problem("must not be negative")
        if amount > MAX_MONEY:
            raise _problem(f"must be at most {MAX_MONEY}")
        # A JSON number is a binary float, never exact (0.1 + 0.2 arrives as
        # 0.30000000000000004): it is read to the nearest cent. A string says
        # exactly what it means, so more than two decimals there is a mistake.
        exact = not round_to_cents and not isinstance(value, float)
        if exact and amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
            raise _problem("must have at most 2 decimal places")
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    return read


def _decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON number or a plain decimal string ("129.90")."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not DECIMAL.match(text):
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


_MONEY_SCHEMA = {
    "oneOf": [
        {"type": "string", "pattern": r"^\s*\d{1,12}(\.\d{1,2})?\s*$"},
        {"type": "number", "minimum": 0, "maximum": float(MAX_MONEY)},
        {"type": "null"},
    ],
    "description": "A non-negative amount. A string keeps it exact and has at most two "
    "decimals; a JSON number is read to the nearest cent.",
}
Money = Annotated[
    Decimal | None,
    BeforeValidator(_money_reader(round_to_cents=False)),
    WithJsonSchema(_MONEY_SCHEMA),
]
# Providers send what their shop computed; rounding to cents beats refusing the order.
RoundedMoney = Annotated[
    Decimal | None,
    BeforeValidator(_money_reader(round_to_cents=True)),
    WithJsonSchema(_MONEY_SCHEMA),
]


# --- codes --------------------------------------------------------------------------------


def _currency(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CURRENCY.match(value):
        raise _problem("must be a three-letter ISO 4217 code, like EUR")
    return value.upper()


Currency = Annotated[
    str | None,
    BeforeValidator(_currency),
    WithJsonSchema({"type": ["string", "null"], "pattern": "^[A-Za-z]{3}$"}),
]


@functools.cache
def known_timezones() -> frozenset[str]:
    """The IANA time zone names this machine's time zone database holds."""
    return frozenset(name for name in available_timezones() if len(name) <= MAX_TIMEZONE_LENGTH)


def read_timezone(value: Any) -> str | None:
    """An IANA time zone name (Europe/Madrid), or None when absent."""
    if value is None or value == "":
        return None
    message = "is not an IANA time zone (like Europe/Madrid)"
    if not isinstance(value, str):
        raise _problem("must be a string")
    # Only the database's own names: ZoneInfo also opens any file under its folders
    # ("right/UTC", "posixrules"), which the OpenAPI description could not list.
    if value not in known_timezones():
        raise _problem(message)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _problem(message) from None
    return value


class _TimeZoneNames:
    """Lists the known names in the JSON schema, read when a schema is made, not at import."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict:
        return {
            "enum": [*sorted(known_timezones()), None],
            "description": "An IANA time zone, like Europe/Madrid.",
        }


TimeZoneName = Annotated[str | None, BeforeValidator(read_timezone), _TimeZoneNames()]


# --- numbers ------------------------------------------------------------------------------


def as_whole_number(value: Any) -> int | None:
    """A JSON integer as an int, or None: not a boolean, not a string.

    `2.0` counts: JSON Schema calls any number without a fraction an integer, and some
    JSON writers (Python's among them) write whole floats that way.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def WholeNumber(minimum: int, maximum: int) -> Any:  # noqa: N802
    """A JSON integer (not a boolean, not a string) between the bounds, inclusive."""

    def read(value: Any) -> int:
        number = as_whole_number(value)
        if number is None or not minimum <= number <= maximum:
            raise _problem(f"must be a whole number from {minimum} to {maximum}")
        return number

    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return Annotated[int, BeforeValidator(read), WithJsonSchema(schema)]


DatabaseId = WholeNumber(1, MAX_DATABASE_ID)


# --- JSON kept as it came -------------------------------------------------------------------


def json_shape_problem(value: object, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a parsed JSON document cannot be read or written back, or None when it can.

    Python's json module reads NaN and Infinity, which no JSON column (nor JSON
    itself) takes back, and nesting deep enough to exhaust the stack when the
    document is written out again. Walked without recursion, so depth cannot hurt here.
    """
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return f"is nested more than {max_depth} levels deep"
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(item, float) and not math.isfinite(item):
            return "must not contain NaN or Infinity"
    return None


def read_storable_json(value: Any) -> Any:
    """Any JSON value a JSON column can hold as it is: every key and string encodable."""
    reason = json_shape_problem(value)
    if reason:
        raise _problem(reason)
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            reason = unencodable_text_reason(item)
            if reason:
                raise _problem(reason)
    return value


# Extra fields kept verbatim (a webhook's whole event, Delighted's echoed properties).
StorableJson = Annotated[Any, BeforeValidator(read_storable_json), WithJsonSchema({})]


# --- errors -------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "extra_forbidden": "is not a field we know",
    "recursion_loop": "is nested too deeply",
}


def _message(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} items"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}"
    if kind == "enum":
        return f"must be {ctx.get('expected')}"
    return error["msg"].removeprefix("Value error, ")


def field_errors(exc: ValidationError, *, prefix: str = "") -> dict[str, list[str]]:
    """Pydantic's errors by dotted field path (`items.0.quantity`), in our words."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        parts = [str(part) for part in error["loc"]]
        path = ".".join(([prefix] if prefix else []) + parts) or "body"
        message = _message(error)
        if message not in errors.setdefault(path, []):
            errors[path].append(message)
    return errors
