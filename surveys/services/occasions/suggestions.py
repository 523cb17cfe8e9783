"""Dates the customer's own words or a note mention, offered for one-click confirmation.

"My daughter graduates on June 12" in the customer's preferences answer, or in an
owner's note, becomes a suggestion: "my daughter graduates", 12 June. Nothing is saved
until an owner confirms it (with the label they choose); "Not a date" refuses it for good.
The customer's first purchase is offered as a yearly "first order anniversary".

dateparser finds dates in free text; it is imported only when a page needs it (it takes
about half a second). It also reads "now", "today" or "in 2 days" as dates, so a match
counts only when it names a month by name and a day: a date someone could remember.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.formats import local_date
from surveys.models import (
    Customer,
    CustomerNote,
    CustomerPreference,
    Purchase,
    RefusedDateSuggestion,
    RememberedDate,
    User,
)
from surveys.services.occasions.dates import MAX_LABEL_LENGTH

SUGGESTION_SOURCES = ("preference", "note", "first_order")
# What a suggestion is called in its page's addresses (`Suggestion.key`): anything else
# names no suggestion there could be.
SUGGESTION_KEY = re.compile(r"(?:preference|note|first_order)-[0-9]{1,10}-[0-9]{1,2}-[0-9]{1,2}")
FIRST_ORDER_LABEL = "First order anniversary"
# Month names and their usual short forms, in English: the words that make a match a date.
_MONTH_WORDS = {
    word.lower() for word in (*calendar.month_name[1:], *calendar.month_abbr[1:], "Sept")
}
_WORD = re.compile(r"[A-Za-z]+")
_DAY = re.compile(r"\b([0-9]{1,2})(?:st|nd|rd|th)?\b")
_YEAR = re.compile(r"\b(1[9][0-9]{2}|[2-8][0-9]{3})\b")
# Words left dangling before or after a date once it is cut out of the sentence.
_DANGLING = {"on", "in", "at", "the", "of", "is", "and", "by", "this", "next", "from", "for"}
MAX_TEXT_READ = 2000
# Occasions that come back every year.
_YEARLY_WORDS = ("birthday", "anniversary", "name day", "wedding day", "every year")


@dataclass(frozen=True)
class Suggestion:
    """A date found in what we know of the customer, not saved until an owner confirms it."""

    source: str
    source_id: int
    label: str
    day: int
    month: int
    year: int | None
    yearly: bool
    # The words it was found in, shown beside it so the owner can judge.
    quote: str

    @property
    def key(self) -> str:
        return f"{self.source}-{self.source_id}-{self.month}-{self.day}"


def comes_every_year(label: str) -> bool:
    """Whether an occasion of these words comes back each year (a birthday), as a guess the
    owner can change (a graduation comes once)."""
    return any(word in label.lower() for word in _YEARLY_WORDS)


def _names_a_day_and_month(matched: str) -> bool:
    words = {word.lower() for word in _WORD.findall(matched)}
    return bool(words & _MONTH_WORDS) and any(1 <= int(day) <= 31 for day in _DAY.findall(matched))


def _label_words(text: str) -> str:
    words = [word for word in text.split() if word.strip(",.!?;:-()")]
    while words and words[-1].lower().strip(",.!?;:") in _DANGLING:
        words.pop()
    while words and words[0].lower().strip(",.!?;:") in _DANGLING:
        words.pop(0)
    return " ".join(words).strip(" ,.!?;:-")


def _label_from(before: str, after: str) -> str:
    """What the date is, from the words of its sentence: before it ("my daughter
    graduates on …"), else after it ("… is my birthday")."""
    before = re.split(r"[.!?;\n]", before)[-1]
    after = re.split(r"[.!?;\n]", after)[0]
    label = _label_words(before) or _label_words(after)
    return (
        (label[:1].upper() + label[1:])[:MAX_LABEL_LENGTH]
        if label
        else gettext("A date they mentioned")
    )


def dates_in(text: str, *, now: datetime) -> list[tuple[str, int, int, int | None, str]]:
    """(label, day, month, year or None, matched words) of every real date `text` names."""
    from dateparser.search import search_dates  # slow to import: only when a page needs it

    text = (text or "")[:MAX_TEXT_READ]
    if not any(word.lower() in _MONTH_WORDS for word in _WORD.findall(text)):
        return []  # no month named: nothing to find, and dateparser is not even asked
    found = search_dates(
        text,
        languages=["en"],
        settings={
            "REQUIRE_PARTS": ["day", "month"],
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
        },
    )
    dates = []
    position = 0  # where the previous match ended: each label is read from its own words
    for matched, moment in found or ():
        start = text.find(matched, position)
        if start < 0:
            continue
        end = start + len(matched)
        if not _names_a_day_and_month(matched):
            continue
        label = _label_from(text[position:start], text[end:])
        position = end
        year = moment.year if _YEAR.search(matched) else None
        dates.append((label, moment.day, moment.month, year, matched))
    return dates


def suggestions_for(session: Session, customer: Customer, *, now: datetime) -> list[Suggestion]:
    """Dates the customer's words, the owners' notes and the first purchase suggest.

    Leaves out what is already remembered (the same day and month) and what an owner
    refused.
    """
    remembered = set(
        session.execute(
            select(RememberedDate.month, RememberedDate.day).where(
                RememberedDate.customer_id == customer.id
            )
        ).all()
    )
    refused = set(
        session.execute(
            select(
                RefusedDateSuggestion.source,
                RefusedDateSuggestion.source_id,
                RefusedDateSuggestion.month,
                RefusedDateSuggestion.day,
            ).where(RefusedDateSuggestion.customer_id == customer.id)
        ).all()
    )
    found: list[Suggestion] = []
    for source, rows in (
        ("preference", _preferences(session, customer)),
        ("note", _notes(session, customer)),
    ):
        for row_id, body in rows:
            for label, day, month, year, _matched in dates_in(body, now=now):
                yearly = year is None and comes_every_year(label)
                found.append(Suggestion(source, row_id, label, day, month, year, yearly, body))
    first = _first_purchase(session, customer)
    if first is not None:
        moment = first.purchased_at
        found.append(
            Suggestion(
                "first_order",
                first.id,
                gettext("First order anniversary"),
                moment.day,
                moment.month,
                None,
                True,
                gettext("Their first order, %(date)s", date=local_date(moment)),
            )
        )
    shown: set[tuple[int, int]] = set()
    suggestions = []
    for suggestion in found:
        day_month = (suggestion.month, suggestion.day)
        if day_month in remembered or day_month in shown:
            continue
        if (suggestion.source, suggestion.source_id, *day_month) in refused:
            continue
        shown.add(day_month)
        suggestions.append(suggestion)
    return suggestions


def find_suggestion(
    session: Session, customer: Customer, key: str, *, now: datetime
) -> Suggestion | None:
    """The suggestion the page offered under `key`, if it is still offered."""
    return next((s for s in suggestions_for(session, customer, now=now) if s.key == key), None)


def refuse_suggestion(
    session: Session, customer: Customer, suggestion: Suggestion, *, by_user: User, now: datetime
) -> None:
    """Never suggest this one again ("Not a date"); refusing it twice at once keeps one row."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(RefusedDateSuggestion)
        .values(
            customer_id=customer.id,
            source=suggestion.source,
            source_id=suggestion.source_id,
            day=suggestion.day,
            month=suggestion.month,
            refused_by_id=by_user.id,
            created_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["customer_id", "source", "source_id", "month", "day"]
        )
    )


def _preferences(session: Session, customer: Customer) -> list[tuple[int, str]]:
    return list(
        session.execute(
            select(CustomerPreference.id, CustomerPreference.body)
            .where(CustomerPreference.customer_id == customer.id)
            .order_by(CustomerPreference.created_at.desc(), CustomerPreference.id.desc())
            .limit(20)
        ).all()
    )


def _notes(session: Session, customer: Customer) -> list[tuple[int, str]]:
    return list(
        session.execute(
            select(CustomerNote.id, CustomerNote.body)
            .where(CustomerNote.customer_id == customer.id)
            .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc())
            .limit(20)
        ).all()
    )


def _first_purchase(session: Session, customer: Customer) -> Purchase | None:
    first = session.scalar(
        select(func.min(Purchase.purchased_at)).where(Purchase.customer_id == customer.id)
    )
    if first is None:
        return None
    return session.scalar(
        select(Purchase)
        .where(Purchase.customer_id == customer.id, Purchase.purchased_at == first)
        .order_by(Purchase.id)
        .limit(1)
    )
