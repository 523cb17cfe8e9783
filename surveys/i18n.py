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

import flask_babel
from flask import Flask, g, has_request_context, request
from flask_babel import Babel
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from surveys import languages
from surveys.catalogs import TRANSLATIONS
from surveys.db import db
from surveys.formats import (
    current_language,
    day_and_month,
    local_date,
    local_datetime,
    money,
    number,
)
from surveys.services.settings import get_setting

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


# --- filters -----------------------------------------------------------------------------


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
