"""Flask-Babel: whose language and time zone a page or email is read in, and the filters
that write dates, numbers and money for that reader.

Who reads decides: a customer's page or email is in the customer's language (their
`locale`, else the shop's default language) and time zone; a logged-in person's pages are in
the language they chose on /account/settings (else the shop's); anyone else reads the shop's
default language. Catalogs live in surveys/translations/ (sources only; `make run`, `make
test` and the test suite compile them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

import flask_babel
from babel import Locale
from babel.dates import format_skeleton, get_timezone_gmt
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from surveys import languages
from surveys.catalogs import TRANSLATIONS
from surveys.db import db
from surveys.services.settings import get_setting

# English keeps the house style the pages always had ("23 Nov 2026, 09:00 UTC"); every other
# language writes a date and time the way CLDR says its readers expect.
ENGLISH_DATETIME = "d MMM y, HH:mm zzz"
ENGLISH_LONG_DATE = "d MMMM y"

babel = Babel()


def _shop_setting(key: str, fallback: str) -> str:
    """A setting the selectors need, read once per request or email, never raising: the
    'database unavailable' page must still render in some language."""
    if not has_request_context():
        # The worker and commands pass the settings in (reading_as), from their own session.
        return fallback
    memo = g.setdefault("_shop_language_settings", {})
    if key not in memo:
        try:
            memo[key] = get_setting(db.session(), key) or fallback
        except SQLAlchemyError:
            memo[key] = fallback
    return memo[key]


def shop_language() -> str:
    return languages.shipped_or_default(_shop_setting("default_language", languages.FALLBACK))


def _signed_in_person():
    if not has_request_context():
        return None
    try:
        return current_user if current_user.is_authenticated else None
    except SQLAlchemyError:
        return None


def select_locale() -> str:
    chosen = g.get("reader_locale")
    if chosen:
        return chosen
    person = _signed_in_person()
    if person is not None and getattr(person, "locale", None):
        return languages.shipped_or_default(person.locale, shop_language())
    return shop_language()


def select_time_zone() -> str:
    chosen = g.get("reader_time_zone")
    if chosen:
        return chosen
    person = _signed_in_person()
    if person is not None and getattr(person, "time_zone", None):
        return person.time_zone
    return _shop_setting("business_time_zone", "UTC")


def customer_language(customer) -> str:
    """The shipped catalog `customer` reads: their locale's nearest, else the shop's language."""
    return languages.shipped_or_default(customer.locale, shop_language())


def read_by_customer(customer, *, chosen_language: str | None = None) -> None:
    """From here on, this request's page speaks to `customer`: their language (or the shipped
    one they just picked on the page) and their time zone."""
    g.reader_locale = chosen_language or customer_language(customer)
    g.reader_time_zone = customer.timezone or _shop_setting("business_time_zone", "UTC")
    flask_babel.refresh()


def read_by_integration() -> None:
    """From here on, this request answers a program (the API, Delighted's endpoints, webhooks):
    in the language its Accept-Language header asks for, when we ship one, else English, never
    the shop's language, so that an integration reads the same words whatever the shop set."""
    asked = [tag for tag, _quality in request.accept_languages]  # best first
    g.reader_locale = next(
        (found for found in map(languages.nearest_shipped, asked) if found), languages.FALLBACK
    )
    flask_babel.refresh()


def read_in(language: str) -> None:
    """From here on, this request's page speaks `language` (the nearest shipped catalog): for
    an admin's preview of what a customer reading it would see."""
    g.reader_locale = languages.shipped_or_default(language, shop_language())
    flask_babel.refresh()


@contextmanager
def reading_as(
    locale: str | None, time_zone: str | None, *, shop_language: str, business_zone: str
) -> Iterator[str]:
    """Render inside as `locale` (any BCP 47 tag; the nearest shipped catalog is used, else the
    shop's language) in `time_zone` (else the business zone); yields the catalog used. For
    emails, which the worker renders for many readers in one app context, with the settings
    read from its own session."""
    catalog = languages.shipped_or_default(locale, shop_language)
    zone = time_zone or business_zone
    saved = {key: g.get(key) for key in ("reader_locale", "reader_time_zone")}
    g.reader_locale, g.reader_time_zone = catalog, zone
    flask_babel.refresh()
    try:
        yield catalog
    finally:
        g.reader_locale, g.reader_time_zone = saved["reader_locale"], saved["reader_time_zone"]
        flask_babel.refresh()


def refresh_language() -> None:
    """After the signed-in person changed their language, this request speaks it at once."""
    flask_babel.refresh()


def other_languages() -> list[tuple[str, str]]:
    """The shipped languages but the one the page is in: (catalog, its own name)."""
    here = current_language()
    return [(code, name) for code, name in languages.language_choices() if code != here]


def current_language() -> str:
    """The catalog name the current page or email is written in (`es`, `pt_BR`)."""
    return str(get_locale() or languages.FALLBACK)


# --- filters -----------------------------------------------------------------------------


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


def page_direction() -> str:
    return "rtl" if languages.is_right_to_left(current_language()) else "ltr"


def register(app: Flask) -> None:
    babel.init_app(
        app,
        default_locale=languages.FALLBACK,
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=select_locale,
        timezone_selector=select_time_zone,
    )
    env = app.jinja_env
    env.filters.update(
        datetime=local_datetime,
        local_date=local_date,
        day_and_month=day_and_month,
        money=money,
        number=number,
    )
    env.globals.update(
        current_language=current_language,
        html_lang=lambda: languages.html_lang(current_language()),
        page_direction=page_direction,
        language_name=languages.language_name,
    )
