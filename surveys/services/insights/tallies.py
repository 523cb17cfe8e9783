"""Reading a range from the tallies (rollups.py keeps them): the whole days the tallies hold,
the part-days at the ends and the days since the last count read from the rows (day_counts.py),
and on an owner's figures what changed hands since the count (owner_scope.py). Only the
business's and each owner's figures use the tallies: a category, a question set or a property
narrows the rows read, and those figures read them directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import InsightDay, InsightOwnerDay, OwnerThemeTally, ThemeTally
from surveys.services.insights import owner_scope
from surveys.services.insights.day_counts import (
    Count,
    as_date,
    complete_before,
    day_rows,
    midnight,
    next_month,
    reach,
    small_reads,
)
from surveys.services.insights.filters import InsightFilters


@dataclass(frozen=True)
class Split:
    """A range cut in three: the whole days `first` to `last` (exclusive) the tallies hold
    (the business's, or the owner's), the rest (`edges`: the part-days at the ends and the days
    not counted yet), and for an owner what changed since the count (`corrections`: the whole
    days' rows of the customers and cases that joined, +1, or left, -1)."""

    first: date
    last: date
    edges: list[InsightFilters] = field(default_factory=list)
    owner_id: int | None = None
    corrections: list[tuple[InsightFilters, int]] = field(default_factory=list)


def split(session: Session, filters: InsightFilters) -> Split | None:
    """How the tallies serve the range, or None when they cannot (a category, question set or
    property chosen, never counted, or no whole counted day inside the range)."""
    if filters.narrowed:
        return None
    done = complete_before(session)
    if done is None:
        return None
    start, end = filters.start.astimezone(UTC), filters.end.astimezone(UTC)
    first = start.date() if start == midnight(start.date()) else start.date() + timedelta(1)
    last = min(end.date(), done)
    if first >= last:
        return None
    edges = []
    if start < midnight(first):
        edges.append(replace(filters, start=start, end=midnight(first)))
    if midnight(last) < end:
        edges.append(replace(filters, start=midnight(last), end=end))
    return Split(first, last, edges, filters.owner_id, _corrections(session, filters, first, last))


def _corrections(session: Session, filters: InsightFilters, first: date, last: date) -> list:
    if filters.owner_id is None:
        return []
    whole = InsightFilters(midnight(first), midnight(last))
    return [
        (replace(whole, customer_ids=customers, case_ids=cases), sign)
        for sign, customers, cases in owner_scope.scope_changes(session, filters.owner_id).parts()
    ]


def prepare(session: Session, ranges: list[InsightFilters]) -> None:
    """Read what the figures of these ranges need from the tallies and the rows, in as few
    statements as there are: the tallies' days of all of them in one, the rows of all their
    edges (and of an owner's corrections) in six. Each figure then adds up what is read."""
    small_reads(session)
    cuts = [cut for cut in (split(session, filters) for filters in ranges) if cut is not None]
    for owner_id in {cut.owner_id for cut in cuts}:
        mine = [cut for cut in cuts if cut.owner_id == owner_id]
        _stored_days(session, owner_id, min(c.first for c in mine), max(c.last for c in mine))
    _computed(session, [part for cut in cuts for part in _parts(cut)])


def _parts(cut: Split) -> list[tuple[InsightFilters, int]]:
    return [(edge, 1) for edge in cut.edges] + cut.corrections


def _stored_days(session: Session, owner_id: int | None, first: date, last: date) -> dict:
    """{day: columns} of the tallies from `first` to `last` (the owner's when given), read once
    per session and refresh for the widest span asked."""
    cache = session.info.setdefault("insight_days", {})
    key = (owner_id, reach(session)[1])
    held = cache.get(key)
    if held is not None and held[0] <= first and last <= held[1]:
        return held[2]
    if held is not None:
        first, last = min(first, held[0]), max(last, held[1])
    table = (InsightOwnerDay if owner_id is not None else InsightDay).__table__
    query = select(table).where(table.c.day >= first, table.c.day < last)
    if owner_id is not None:
        query = query.where(table.c.owner_id == owner_id)
    result = session.execute(query)
    names = list(result.keys())
    rows = {}
    for row in result:
        values = dict(zip(names, row, strict=True))
        rows[as_date(values["day"])] = values
    cache[key] = (first, last, rows)
    return rows


def _scope_key(part: InsightFilters) -> tuple:
    return (part.owner_id, part.customer_ids, part.case_ids)


def _computed(session: Session, parts: list[tuple[InsightFilters, int]]) -> dict:
    """{(refresh, scope, start, end): [(day, columns)]} of the parts read from the rows, the
    missing ones read now: one pass (six statements) for the parts of each scope (a part that
    overlaps another of its pass waits for the next: a row belongs to one part of a pass)."""
    cache = session.info.setdefault("insight_parts", {})
    refreshed = reach(session)[1]
    passes: list[list[InsightFilters]] = []
    for part, _sign in parts:
        key = (refreshed, _scope_key(part), part.start, part.end)
        if key in cache or any(part in held for held in passes):
            continue
        for held in passes:
            if _scope_key(held[0]) == _scope_key(part) and all(
                part.end <= other.start or other.end <= part.start for other in held
            ):
                held.append(part)
                break
        else:
            passes.append([part])
    for scoped in passes:
        intervals = tuple((part.start, part.end) for part in scoped)
        found = day_rows(session, Count(intervals, scope=scoped[0]))
        for i, part in enumerate(scoped):
            days_found = sorted(
                (day, row) for (index, _owner, day), row in found.items() if index == i
            )
            cache[(refreshed, _scope_key(part), part.start, part.end)] = days_found
    return cache


def _range_rows(session: Session, cut: Split) -> list[tuple[date, dict, int]]:
    """(day, columns, sign) of everything the range adds up: the tallies' whole days, the
    edges' rows, and an owner's corrections."""
    stored = _stored_days(session, cut.owner_id, cut.first, cut.last)
    rows = [(day, stored[day], 1) for day in sorted(stored) if cut.first <= day < cut.last]
    parts = _parts(cut)
    computed = _computed(session, parts)
    refreshed = reach(session)[1]
    for part, sign in parts:
        rows += [
            (day, row, sign)
            for day, row in computed[(refreshed, _scope_key(part), part.start, part.end)]
        ]
    return rows


def days(session: Session, cut: Split) -> list[dict]:
    """The tallies' rows of the split's whole days, oldest first (a dict of columns a day)."""
    stored = _stored_days(session, cut.owner_id, cut.first, cut.last)
    return [stored[day] for day in sorted(stored) if cut.first <= day < cut.last]


def tallied(
    session: Session,
    filters: InsightFilters,
    names: tuple[str, ...],
    raw: Callable[[InsightFilters], tuple],
) -> tuple[int, ...]:
    """The columns `names` summed over the range: the tallies' whole days, and the same figures
    read from the rows for the rest, or `raw(filters)` for all of it when the tallies cannot."""
    cut = split(session, filters)
    if cut is None:
        return tuple(raw(filters))
    sums = [0] * len(names)
    for _day, row, sign in _range_rows(session, cut):
        sums = [total + sign * row[name] for total, name in zip(sums, names, strict=True)]
    return tuple(sums)


def tallied_trend(
    session: Session,
    filters: InsightFilters,
    names: tuple[str, ...],
    step: str,
    raw: Callable[[InsightFilters], list],
) -> list[tuple[str, tuple[int, ...]]]:
    """The columns `names` summed per week or month (`step`), periods with anything counted,
    oldest first; `raw(filters)` gives [(period, values)] read from the rows when the tallies
    cannot serve the range."""
    cut = split(session, filters)
    if cut is None:
        return [(period, tuple(values)) for period, values in raw(filters)]
    periods: dict[str, list[int]] = {}
    for day, row, sign in _range_rows(session, cut):
        values = [row[name] for name in names]
        if any(values):
            sums = periods.setdefault(period_of(day, step), [0] * len(names))
            for i, value in enumerate(values):
                sums[i] += sign * value
    # A period whose only rows were taken away again (an owner's correction) shows nothing.
    return [(period, tuple(periods[period])) for period in sorted(periods) if any(periods[period])]


def period_of(day, step: str) -> str:
    """The trend bucket a day falls in, as scope.bucket writes it: its week's Monday or its
    month's first day, 'YYYY-MM-DD'."""
    day = as_date(day)
    if step == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.replace(day=1).isoformat()


@dataclass(frozen=True)
class ThemeSplit:
    """How the theme tallies serve a range: `pieces` (selectables of key, spelling, responses,
    negative) of its whole counted days or months, the rest read from the answers' themes
    (`edges`), and an owner's corrections as in Split."""

    pieces: list
    edges: list[InsightFilters]
    corrections: list[tuple[InsightFilters, int]] = field(default_factory=list)


def theme_split(session: Session, filters: InsightFilters) -> ThemeSplit | None:
    """The business's day and month tallies, or an owner's month tallies (whole months only:
    the rest of the range is read from the rows); None when they cannot serve the range."""
    cut = split(session, filters)
    if cut is None:
        return None
    if cut.owner_id is None:
        return ThemeSplit(theme_pieces(session, cut), cut.edges)
    first = cut.first if cut.first.day == 1 else next_month(cut.first)
    last = cut.last.replace(day=1)
    if first >= last:
        return None
    tally = OwnerThemeTally
    piece = select(tally.key, tally.spelling, tally.responses, tally.negative).where(
        tally.owner_id == cut.owner_id, tally.month >= first, tally.month < last
    )
    edges = []
    if filters.start < midnight(first):
        edges.append(replace(filters, end=midnight(first)))
    if midnight(last) < filters.end:
        edges.append(replace(filters, start=midnight(last)))
    return ThemeSplit([piece], edges, _corrections(session, filters, first, last))


def theme_pieces(session: Session, cut: Split):
    """The tallies' rows of the split's whole days (month rows for whole months, day rows for
    the rest): a selectable of (key, spelling, responses, negative)."""
    first_month = cut.first if cut.first.day == 1 else next_month(cut.first)
    last_month = cut.last.replace(day=1)
    columns = (ThemeTally.key, ThemeTally.spelling, ThemeTally.responses, ThemeTally.negative)
    if first_month >= last_month:
        return [select(*columns).where(*_theme_day_rows(cut.first, cut.last))]
    parts = [
        select(*columns).where(
            ThemeTally.grain == "month",
            ThemeTally.start >= first_month,
            ThemeTally.start < last_month,
        )
    ]
    if cut.first < first_month:
        parts.append(select(*columns).where(*_theme_day_rows(cut.first, first_month)))
    if last_month < cut.last:
        parts.append(select(*columns).where(*_theme_day_rows(last_month, cut.last)))
    return parts


def _theme_day_rows(start: date, end: date):
    return (ThemeTally.grain == "day", ThemeTally.start >= start, ThemeTally.start < end)
