"""Codes: ISO 4217 currencies, IANA time zone names and BCP 47 language tags."""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from surveys.languages import MAX_LOCALE_LENGTH, InvalidLocale, normalise_locale
from surveys.validation.errors import problem

MAX_TIMEZONE_LENGTH = 64
CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def _currency(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CURRENCY.match(value):
        raise problem("must be a three-letter ISO 4217 code, like EUR")
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
        raise problem("must be a string")
    # Only the database's own names: ZoneInfo also opens any file under its folders
    # ("right/UTC", "posixrules"), which the OpenAPI description could not list.
    if value not in known_timezones():
        raise problem(message)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise problem(message) from None
    return value


class _TimeZoneNames:
    """Lists the known names in the JSON schema, read when a schema is made, not at import."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict:
        return {
            "enum": [*sorted(known_timezones()), None],
            "description": "An IANA time zone, like Europe/Madrid.",
        }


TimeZoneName = Annotated[str | None, BeforeValidator(read_timezone), _TimeZoneNames()]


def read_locale(value: Any) -> str | None:
    """A BCP 47 language tag (`es`, `pt-BR`), normalised, or None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise problem("must be a string")
    try:
        return normalise_locale(value)
    except InvalidLocale:
        raise problem("is not a BCP 47 language tag (like es or pt-BR)") from None


LocaleTag = Annotated[
    str | None,
    BeforeValidator(read_locale),
    WithJsonSchema(
        {
            "type": ["string", "null"],
            "maxLength": MAX_LOCALE_LENGTH,
            "description": "A BCP 47 language tag, like es or pt-BR: the language of the "
            "customer's emails and pages (the nearest language we ship, else the shop's).",
            "examples": ["es", "pt-BR"],
        }
    ),
]


def _locale_or_none(value: Any) -> str | None:
    """A provider's locale, or None when it sent one we cannot read: an order is never refused
    for it; the customer then reads the shop's default language."""
    try:
        return read_locale(value)
    except PydanticCustomError:
        return None


# For signed provider payloads (Shopify, Stripe) and imports: forgiving, like their text.
ProviderLocale = Annotated[str | None, BeforeValidator(_locale_or_none)]
