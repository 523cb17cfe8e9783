"""How the reader reads a moment, a day, a sum or a number: Babel's formats for the language
and time zone the current page or email is in (surveys.i18n decides whose they are). Needs an
app context only, so services, the worker and templates share these.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import flask_babel
from babel import Locale
from babel.dates import format_skeleton, get_timezone_gmt
from flask_babel import get_locale

from surveys import languages

# English keeps the house style the pages always had ("23 Nov 2026, 09:00 UTC"); every other
# language writes a date and time the way CLDR says its readers expect.
ENGLISH_DATETIME = "d MMM y, HH:mm zzz"
ENGLISH_LONG_DATE = "d MMMM y"


def current_language() -> str:
    """The catalog name the current page or email is written in (`es`, `pt_BR`)."""
    return str(get_locale() or languages.FALLBACK)


def local_datetime(moment: datetime | None) -> str:
    """A moment in the reader's language and time zone ('23 Nov 2026, 09:00 UTC')."""
    if moment is None:
        return ""
    locale = get_locale() or Locale.parse(languages.FALLBACK)
    if locale.language == "en":
        return flask_babel.format_datetime(moment, ENGLISH_DATETIME)
    local = flask_babel.to_user_timezone(moment)
    # CLDR has no one pattern for "day, month, year, hours and minutes": its own way of joining
    # a date and a time ("{1}, {0}", "{1} 'à' {0}"), around the shortest of each.
    day = format_skeleton("yMMMd", local, locale=locale)
    time = format_skeleton("Hm", local, locale=locale)
    joined = str(locale.datetime_formats["medium"]).replace("{1}", day).replace("{0}", time)
    zone = flask_babel.format_datetime(moment, "zzz")
    if zone[:1] in "+-":  # no abbreviation in this language: "UTC+01:00" rather than "+0100"
        zone = get_timezone_gmt(local, width="long", locale=locale)
    return f"{joined} {zone}"


def local_date(day: date | datetime | None, style: str = "long") -> str:
    """A day in the reader's language ('22 de noviembre de 2026'); a moment in their zone."""
    if day is None:
        return ""
    locale = get_locale() or Locale.parse(languages.FALLBACK)
    if locale.language == "en" and style == "long":
        style = ENGLISH_LONG_DATE
    if isinstance(day, datetime):
        return flask_babel.format_date(day, style)
    return flask_babel.format_date(day, style, rebase=False)


def day_and_month(day: date | None) -> str:
    """A yearly date without its year ('12 June', '12 de junio')."""
    if day is None:
        return ""
    locale = get_locale() or Locale.parse(languages.FALLBACK)
    return format_skeleton("MMMMd", day, locale=locale)


def money(amount: Decimal | float | None, currency: str | None) -> str:
    if amount is None:
        return ""
    return flask_babel.format_currency(amount, currency or "USD")


def number(value) -> str:
    return flask_babel.format_decimal(value)
