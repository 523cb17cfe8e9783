"""The dashboard's filter form, read from the query string: dates, category, owner, question set,
and a purchase property's name and value.

Anything the form cannot use is said beside its field and answered 400, with no figures shown
for filters that were not applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import QuestionSet, User
from surveys.services.insights.filters import DEFAULT_RANGE_DAYS, InsightFilters
from surveys.validation.properties import MAX_PROPERTY_NAME, MAX_PROPERTY_VALUE
from surveys.validation.text import unstorable_text_reason
from surveys.web_input import database_id

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
EARLIEST = date(2000, 1, 1)
# Ten years: longer than any shop's history here, short enough to stay a dashboard.
LONGEST_RANGE = timedelta(days=3660)
MAX_CATEGORY = 128
MAX_SET_KEY = 64


@dataclass
class FilterChoice:
    """What the form shows (as typed) and, when all of it could be read, the filters."""

    values: dict[str, str]
    filters: InsightFilters | None
    errors: dict[str, str] = field(default_factory=dict)


def _read_date(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if day >= EARLIEST else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def read_filters(
    args: Mapping[str, str], *, session: Session, now: datetime, own_id: int | None = None
) -> FilterChoice:
    """The filters the query string asks for. `own_id` fixes the owner (an owner's own page),
    and then the `owner` argument is not read."""
    values = {name: (args.get(name) or "").strip() for name in _NAMES}
    errors: dict[str, str] = {}
    today = now.date()
    start_day = _read_date(values["from"]) if values["from"] else None
    end_day = _read_date(values["to"]) if values["to"] else None
    if values["from"] and start_day is None:
        errors["from"] = _("Give the first day as a date, YYYY-MM-DD, from 2000 on.")
    if values["to"] and end_day is None:
        errors["to"] = _("Give the last day as a date, YYYY-MM-DD, from 2000 on.")
    if start_day and end_day and start_day > end_day:
        errors["to"] = _("The last day comes before the first day.")
    elif start_day and end_day and end_day - start_day > LONGEST_RANGE:
        errors["to"] = _("Choose at most ten years.")

    category = values["category"] or None
    if category is not None:
        reason = unstorable_text_reason(category, multiline=False)
        if reason or len(category) > MAX_CATEGORY:
            errors["category"] = _(
                "A category is one line of at most %(max)d characters.", max=MAX_CATEGORY
            )

    owner_id = own_id
    if own_id is None and values["owner"]:
        owner_id = database_id(values["owner"])
        if owner_id is None or session.get(User, owner_id) is None:
            errors["owner"] = _("Choose an owner from the list.")
    if own_id is not None:
        values["owner"] = ""

    property_name, property_value = _read_property(values, errors)

    set_key = values["question_set"] or None
    if set_key is not None and (
        len(set_key) > MAX_SET_KEY
        or session.scalar(select(QuestionSet.id).where(QuestionSet.key == set_key)) is None
    ):
        errors["question_set"] = _("Choose a question set from the list.")

    if errors:
        return FilterChoice(values, None, errors)
    chosen = {
        "category": category,
        "owner_id": owner_id,
        "question_set_key": set_key,
        "property_name": property_name,
        "property_value": property_value,
    }
    # Whole days in UTC, the last one included; by default the last 90 days up to today, so the
    # page, its charts and its links (which carry the dates) count the same rows.
    end_day = end_day or max(today, start_day or today)
    start_day = start_day or end_day - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    values["from"], values["to"] = start_day.isoformat(), end_day.isoformat()
    filters = InsightFilters(_midnight(start_day), _midnight(end_day + timedelta(days=1)), **chosen)
    return FilterChoice(values, filters)


_NAMES = ("from", "to", "category", "owner", "question_set", "property", "property_value")


def _read_property(values: dict[str, str], errors: dict[str, str]) -> tuple[str | None, str | None]:
    """The property name and value to filter on (both, or neither), noting what is wrong."""
    name, value = values["property"] or None, values["property_value"] or None
    if name is not None and (
        unstorable_text_reason(name, multiline=False) or len(name) > MAX_PROPERTY_NAME
    ):
        errors["property"] = _(
            "A property name is one line of at most %(max)d characters.", max=MAX_PROPERTY_NAME
        )
    elif name is None and value is not None:
        errors["property"] = _("Give the property's name too.")
    if value is not None and (
        unstorable_text_reason(value, multiline=False) or len(value) > MAX_PROPERTY_VALUE
    ):
        errors["property_value"] = _(
            "A value is one line of at most %(max)d characters.", max=MAX_PROPERTY_VALUE
        )
    elif name is not None and value is None:
        errors["property_value"] = _("Give the value the property must have.")
    return name, value


def query_args(filters: InsightFilters) -> dict[str, str]:
    """The query string that asks for these filters again (charts, links to what is behind)."""
    last_day = (filters.end - timedelta(microseconds=1)).date()
    args = {"from": filters.start.date().isoformat(), "to": last_day.isoformat()}
    if filters.category is not None:
        args["category"] = filters.category
    if filters.owner_id is not None:
        args["owner"] = str(filters.owner_id)
    if filters.question_set_key is not None:
        args["question_set"] = filters.question_set_key
    if filters.by_property:
        args["property"] = filters.property_name
        args["property_value"] = filters.property_value
    return args
