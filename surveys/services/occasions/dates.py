"""Dates that matter to a customer: recording, listing and removing them, and when they fall.

A date is a day and a month, with a year when it is known ("Emma's graduation, 12 June
2027"). A yearly date comes back every year; a yearly Feb 29 falls on Feb 28 in the
years that have none. `next_occurrence` is kept on each row, so the reminder job and the
inbox's "coming up" list seek on an index instead of working out every date there is.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from surveys.formats import day_and_month, local_date
from surveys.models import Customer, RememberedDate, User
from surveys.validation.text import unstorable_text_reason

MAX_LABEL_LENGTH = 200
MIN_YEAR, MAX_YEAR = 1900, 8999
# The inbox shows the dates of the next this many days.
COMING_UP_DAYS = 30
# English keeps the house style, the day first ("12 June"), as its long dates do.
ENGLISH_DAY_AND_MONTH = "d MMMM"
SOURCES = ("owner", "suggestion", "first_order", "api")


class DateError(ValueError):
    """A date that cannot be recorded; `errors` maps each field at fault to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field} {why}" for field, why in errors.items()))
        self.errors = errors


class DateNotFound(LookupError):
    """No such date for this customer."""


@dataclass(frozen=True)
class DateInput:
    label: str
    day: int
    month: int
    year: int | None = None
    yearly: bool = True


def falls_on(year: int, month: int, day: int) -> date:
    """The day a day-and-month falls on in `year`: Feb 29 is Feb 28 when the year has none."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def next_occurrence(
    *, day: int, month: int, year: int | None, yearly: bool, on_or_after: date
) -> date | None:
    """The first day on or after `on_or_after` the date falls on; None when it never will."""
    if year is not None and not yearly:
        once = date(year, month, day)
        return once if once >= on_or_after else None
    start = max(on_or_after.year, year or on_or_after.year)
    if yearly:
        for candidate_year in (start, start + 1):
            candidate = falls_on(candidate_year, month, day)
            if candidate >= on_or_after:
                return candidate
        return None  # unreachable: next year's always is
    # Once, in whichever year it next truly falls (Feb 29: the next leap year).
    for candidate_year in range(start, start + 9):
        if calendar.monthrange(candidate_year, month)[1] >= day:
            candidate = date(candidate_year, month, day)
            if candidate >= on_or_after:
                return candidate
    return None


def problems(data: DateInput) -> dict[str, str]:
    """Why each field of a date cannot be recorded (empty when it can)."""
    errors: dict[str, str] = {}
    label = (data.label or "").strip()
    if not label:
        errors["label"] = _("Say what the date is, like “Emma’s graduation” or “birthday”.")
    elif len(label) > MAX_LABEL_LENGTH:
        errors["label"] = _("Keep it under %(max)d characters.", max=MAX_LABEL_LENGTH)
    elif reason := unstorable_text_reason(label, multiline=False):
        errors["label"] = f"This field {reason}."
    if not isinstance(data.month, int) or not 1 <= data.month <= 12:
        errors["month"] = _("Choose a month from 1 to 12.")
    if data.year is not None and (
        not isinstance(data.year, int) or not MIN_YEAR <= data.year <= MAX_YEAR
    ):
        errors["year"] = _(
            "Give a year from %(first)d to %(last)d, or none.", first=MIN_YEAR, last=MAX_YEAR
        )
    if not isinstance(data.day, int) or not 1 <= data.day <= 31:
        errors["day"] = _("Choose a day from 1 to 31.")
    elif "month" not in errors:
        # Feb 29 exists in leap years, so only a year can rule it out.
        longest = calendar.monthrange(2000, data.month)[1]
        if data.day > longest:
            said = _("%(month)s has %(num)d days.", month=_month_name(data.month), num=longest)
            errors["day"] = said[:1].upper() + said[1:]  # "abril tiene…" opens a sentence
        elif data.year is not None and "year" not in errors:
            if data.day > calendar.monthrange(data.year, data.month)[1]:
                errors["day"] = _(
                    "%(year)d has no %(date)s.",
                    year=data.year,
                    date=describe_day(data.day, data.month),
                )
    return errors


def record_date(
    session: Session,
    customer: Customer,
    data: DateInput,
    *,
    now: datetime,
    by_user: User | None = None,
    via: str | None = None,
    source: str = "owner",
) -> RememberedDate:
    """Remember a date for the customer. Raises DateError naming each field at fault."""
    if customer.erased_at is not None:
        raise DateError({"label": _("This customer's data was erased: nothing more is kept.")})
    errors = problems(data)
    if errors:
        raise DateError(errors)
    remembered = RememberedDate(
        customer_id=customer.id,
        label=data.label.strip(),
        day=data.day,
        month=data.month,
        year=data.year,
        yearly=bool(data.yearly),
        source=source if source in SOURCES else "owner",
        recorded_by=by_user,
        recorded_via=via,
        next_occurrence=next_occurrence(
            day=data.day,
            month=data.month,
            year=data.year,
            yearly=bool(data.yearly),
            on_or_after=now.date(),
        ),
        created_at=now,
    )
    session.add(remembered)
    session.flush()
    return remembered


def dates_of(session: Session, customer: Customer) -> list[RememberedDate]:
    """The customer's dates, the soonest first (passed one-off dates last)."""
    rows = session.scalars(
        select(RememberedDate)
        .where(RememberedDate.customer_id == customer.id)
        .options(selectinload(RememberedDate.recorded_by))
        .order_by(RememberedDate.month, RememberedDate.day, RememberedDate.id)
    ).all()
    return sorted(rows, key=lambda row: (row.next_occurrence is None, row.next_occurrence or 0))


def get_date(session: Session, customer: Customer, date_id: int) -> RememberedDate:
    """One of the customer's dates; DateNotFound when it is not theirs or does not exist."""
    remembered = session.get(RememberedDate, date_id)
    if remembered is None or remembered.customer_id != customer.id:
        raise DateNotFound(f"{customer.display_name} has no date {date_id}.")
    return remembered


def remove_date(session: Session, remembered: RememberedDate) -> None:
    """Forget a date (a reminder already queued for it is cancelled when it would go out)."""
    session.delete(remembered)
    session.flush()


@dataclass(frozen=True)
class ComingUp:
    """One date of the next few weeks, for the inbox."""

    on: date
    remembered: RememberedDate
    customer: Customer
    days_away: int


def coming_up_for(session: Session, user: User, *, today: date) -> list[ComingUp]:
    """The dates of the next 30 days of the customers this person is account owner of.

    A date already reminded of has moved its `next_occurrence` on to the year after;
    `last_reminded_on` still holds the day it falls on.
    """
    until = today + timedelta(days=COMING_UP_DAYS)
    rows = session.execute(
        select(RememberedDate, Customer)
        .join(Customer, Customer.id == RememberedDate.customer_id)
        .where(
            Customer.owner_id == user.id,
            Customer.erased_at.is_(None),
            or_(
                RememberedDate.next_occurrence.between(today, until),
                RememberedDate.last_reminded_on.between(today, until),
            ),
        )
        .limit(100)
    ).all()
    coming = []
    for remembered, customer in rows:
        last = remembered.last_reminded_on
        on = last if last is not None and today <= last <= until else remembered.next_occurrence
        coming.append(ComingUp(on, remembered, customer, (on - today).days))
    return sorted(coming, key=lambda item: (item.on, item.remembered.id))


def describe(remembered: RememberedDate) -> str:
    """The date in words: "12 June", or "12 June 2027" when the year is known."""
    return describe_day(remembered.day, remembered.month, remembered.year)


def describe_day(day: int, month: int, year: int | None = None) -> str:
    """A day and month (and year, when known) in the reader's language: "12 June", "12 de
    junio de 2027"."""
    if year is not None and MIN_YEAR <= year <= MAX_YEAR:
        try:
            return local_date(date(year, month, day))
        except ValueError:  # no such day in that year: say it without the year
            pass
    # 2000 is a leap year: every day of every month is in it.
    if str(get_locale() or "en").startswith("en"):
        return format_date(date(2000, month, day), ENGLISH_DAY_AND_MONTH)
    return day_and_month(date(2000, month, day))


def _month_name(month: int) -> str:
    """The month's name in the reader's language, as it stands alone ("February", "febrero")."""
    return format_date(date(2000, month, 1), "LLLL")


# What to do for an occasion, by the words of its label; a call fits any of them. The words
# are in the reader's language (lazy: read when the reminder is written).
_GESTURE_BY_WORD = (
    (("birthday",), "card", _l("A handwritten birthday card, signed by you.")),
    (("graduat", "exam", "degree"), "card", _l("A handwritten card to congratulate them.")),
    (("wedding", "married", "baby", "born"), "gift", _l("A small gift and a card.")),
    (("anniversary",), "card", _l("A card to thank them for another year with us.")),
)


def suggested_gesture(label: str) -> tuple[str, str]:
    """(gesture kind, words) that fit an occasion: a card for a birthday, and so on."""
    lowered = (label or "").lower()
    for words, kind, suggestion in _GESTURE_BY_WORD:
        if any(word in lowered for word in words):
            return kind, str(suggestion)
    return "call", _("A call just to say you remembered, and to ask how it went.")
