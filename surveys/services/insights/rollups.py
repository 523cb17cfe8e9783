"""What keeps the insight pages fast at millions of answers.

Themes: each written answer's themes are read once, when the answer is recorded, into
`answer_themes` (same transaction); pages count them with SQL instead of reading the words.

Day tallies: the worker counts each UTC day's figures into `insight_days` (and the themes into
`theme_tallies`, by day and by month) up to yesterday. A figure over a range then adds up the
tallies of the whole days the tallies reach, and reads the rows themselves only for what is
left: the part-days at either end and the days since the last refresh. So a figure costs about
a row per day of the range, however many answers a day brings. Each pass recounts the last
RECOUNT_DAYS, as answers, opens and clicks of a survey arrive while its link works. Only the
unfiltered figures use the tallies: an owner, a category or a question set narrows the rows
read, and those figures read them directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement,
    Date,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    AnswerTheme,
    Case,
    CaseEvent,
    EmailEvent,
    InsightDay,
    InsightRollup,
    Question,
    Response,
    Survey,
    ThemeTally,
    Touchpoint,
)
from surveys.services.insights.filters import InsightFilters

# Answers, opens and clicks come in while a survey's link works (30 days by default): each
# refresh counts these last days again.
RECOUNT_DAYS = 45
REFRESH_EVERY = timedelta(hours=1)
UNSUBSCRIBE_EVENTS = ("unsubscribe", "group_unsubscribe")
BOUNCE_EVENTS = ("bounce",)
PROMOTER_VALUES = ("9", "10")
PASSIVE_VALUES = ("7", "8")
DETRACTOR_VALUES = tuple(str(n) for n in range(7))


# --- themes of each written answer (recorded by themes.record_answer_themes) -------------------


def forget_answer_themes(session: Session, answer_ids: list[int]) -> None:
    """The answers' words are gone (erased): so are their themes, and the tallies of their days
    are counted again."""
    if not answer_ids:
        return
    days = set(
        session.scalars(
            select(day_of(session, Response.submitted_at))
            .join(AnswerTheme, AnswerTheme.response_id == Response.id)
            .where(AnswerTheme.answer_id.in_(answer_ids))
            .distinct()
        )
    )
    session.execute(delete(AnswerTheme).where(AnswerTheme.answer_id.in_(answer_ids)))
    done = complete_before(session)
    for day in map(_as_date, days):
        if done is not None and day < done:
            _count_theme_days(session, day, day + timedelta(days=1))
            if _next_month(day) <= done:  # its month is counted whole: count it again
                _count_theme_months(session, day.replace(day=1), _next_month(day))


# --- days --------------------------------------------------------------------------------------


def day_of(session: Session, column) -> ColumnElement:
    """The UTC day of a timestamp column, as a date (PostgreSQL) or 'YYYY-MM-DD' (SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _month_of_day(session: Session, column) -> ColumnElement:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _state(session: Session) -> InsightRollup:
    """The one row (migration 0013 writes it), locked: refreshes take turns, and the second
    then finds the days counted."""
    state = session.scalar(select(InsightRollup).where(InsightRollup.id == 1).with_for_update())
    if state is None:
        state = InsightRollup(id=1)
        session.add(state)
        session.flush()
    return state


def _reach(session: Session) -> tuple[date | None, datetime | None]:
    """(complete_before, refreshed_at), read once per session: a dashboard splits a dozen
    ranges. A refresh in the same session forgets it."""
    if "insight_reach" not in session.info:
        row = session.execute(
            select(InsightRollup.complete_before, InsightRollup.refreshed_at).where(
                InsightRollup.id == 1
            )
        ).first()
        session.info["insight_reach"] = (
            _as_date(row[0]) if row and row[0] else None,
            row[1] if row else None,
        )
    return session.info["insight_reach"]


def complete_before(session: Session) -> date | None:
    """Every day before this one is in the tallies; None when they were never counted."""
    return _reach(session)[0]


# --- the worker's refresh ----------------------------------------------------------------------


def refresh_rollups(session: Session, now: datetime, *, full: bool = False) -> int:
    """Count the days up to yesterday (UTC) into the tallies: every day the first time (or with
    `full`), then the last RECOUNT_DAYS, at most once every REFRESH_EVERY. Returns the days
    counted. Safe to run twice or in two workers at once: the second counts the same."""
    session.info.pop("insight_reach", None)
    session.info.pop("insight_days", None)
    state = _state(session)
    today = now.astimezone(UTC).date()
    fresh = state.refreshed_at is not None and now - state.refreshed_at < REFRESH_EVERY
    if not full and state.complete_before == today and fresh:
        return 0
    first = (
        None
        if full or state.complete_before is None
        else (min(state.complete_before, today) - timedelta(days=RECOUNT_DAYS))
    )
    if first is None:
        oldest = session.scalar(select(func.min(Response.submitted_at)))
        oldest_survey = session.scalar(select(func.min(Survey.sent_at)))
        oldest_touch = session.scalar(select(func.min(Touchpoint.occurred_at)))
        known = [moment for moment in (oldest, oldest_survey, oldest_touch) if moment]
        first = min(known).astimezone(UTC).date() if known else today
    _count_days(session, first, today)
    _count_theme_days(session, first, today)
    _count_theme_months(session, first, today)
    state.complete_before = today
    state.refreshed_at = now
    session.flush()
    session.info.pop("insight_reach", None)
    return (today - first).days


def refresh_insight_rollups(session: Session, now: datetime) -> int:
    """The worker's timed job (see services/timed_work.py)."""
    return refresh_rollups(session, now)


def _by_day(session: Session, column, start: date, end: date, *columns, joins=(), where=()):
    day = day_of(session, column).label("day")
    query = select(day, *columns)
    for target, on in joins:
        query = query.join(target, on)
    query = query.where(column >= _midnight(start), column < _midnight(end), *where)
    return {_as_date(row[0]): row[1:] for row in session.execute(query.group_by(day))}


def _count_days(session: Session, start: date, end: date) -> None:
    count = func.count
    answers = _by_day(
        session,
        Response.submitted_at,
        start,
        end,
        count(Response.id),
        count(Response.id).filter(Response.negative),
    )

    def answered(key: str, values):
        return count(Answer.id).filter(Question.key == key, Answer.value.in_(values))

    choices = _by_day(
        session,
        Response.submitted_at,
        start,
        end,
        answered("recommend", PROMOTER_VALUES),
        answered("recommend", PASSIVE_VALUES),
        answered("recommend", DETRACTOR_VALUES),
        *(answered("expectations", (v,)) for v in ("exceeding", "meeting", "short")),
        *(answered("time_money", (v,)) for v in ("yes", "somewhat", "no")),
        joins=[
            (Answer, Answer.response_id == Response.id),
            (Question, Question.id == Answer.question_id),
        ],
        where=[Question.key.in_(("recommend", "expectations", "time_money"))],
    )
    surveys = _by_day(
        session,
        Survey.sent_at,
        start,
        end,
        count(Survey.id),
        count(Survey.id).filter(Survey.answered_at.is_not(None)),
        count(Survey.id).filter(Survey.opened_at.is_not(None)),
        count(Survey.id).filter(Survey.clicked_at.is_not(None)),
    )
    events = _by_day(
        session,
        EmailEvent.occurred_at,
        start,
        end,
        count(EmailEvent.id).filter(EmailEvent.event.in_(UNSUBSCRIBE_EVENTS)),
        count(EmailEvent.id).filter(EmailEvent.event.in_(BOUNCE_EVENTS)),
        joins=[(Survey, Survey.id == EmailEvent.survey_id)],
        where=[EmailEvent.event.in_(UNSUBSCRIBE_EVENTS + BOUNCE_EVENTS)],
    )
    touches = _by_day(
        session,
        Touchpoint.occurred_at,
        start,
        end,
        count(Touchpoint.id).filter(Touchpoint.polarity == "positive"),
        count(Touchpoint.id).filter(Touchpoint.polarity == "negative"),
    )
    cases = _by_day(session, Case.created_at, start, end, *case_counts())
    session.execute(delete(InsightDay).where(InsightDay.day >= start, InsightDay.day < end))
    rows = []
    counted = set(answers) | set(choices) | set(surveys) | set(events) | set(touches) | set(cases)
    for day in sorted(counted):
        values = (
            answers.get(day, (0, 0))
            + choices.get(day, (0,) * 9)
            + surveys.get(day, (0,) * 4)
            + events.get(day, (0, 0))
            + touches.get(day, (0, 0))
            + cases.get(day, (0,) * 5)
        )
        rows.append(dict(zip(DAY_COLUMNS, values, strict=True), day=day))
    if rows:
        session.execute(insert(InsightDay), rows)


CASE_COLUMNS = (
    "cases_opened",
    "cases_escalated",
    "cases_fix_confirmed",
    "cases_reopened",
    "cases_ever_resolved",
)
# The columns of InsightDay in the order _count_days builds them, the cases' last.
DAY_COLUMNS = (
    *"responses negative promoters passives detractors".split(),
    *"expectations_exceeding expectations_meeting expectations_short".split(),
    *"time_money_yes time_money_somewhat time_money_no".split(),
    *"sent answered opened clicked unsubscribes bounces".split(),
    *"positive_touches negative_touches".split(),
    *CASE_COLUMNS,
)


def _count_theme_days(session: Session, start: date, end: date) -> None:
    """Each day's theme tallies, counted in the database: the key's rows (responses, negative
    ones) and its spellings' rows (answers)."""
    session.execute(
        delete(ThemeTally).where(
            ThemeTally.grain == "day", ThemeTally.start >= start, ThemeTally.start < end
        )
    )
    day = day_of(session, Response.submitted_at)
    in_range = (
        Response.submitted_at >= _midnight(start),
        Response.submitted_at < _midnight(end),
    )
    keys = (
        select(
            literal("day"),
            day,
            AnswerTheme.key,
            literal(""),
            func.count(AnswerTheme.response_id.distinct()),
            negative_responses(),
        )
        .join(Response, Response.id == AnswerTheme.response_id)
        .where(*in_range)
        .group_by(day, AnswerTheme.key)
    )
    spellings = (
        select(
            literal("day"),
            day,
            AnswerTheme.key,
            AnswerTheme.spelling,
            func.count(AnswerTheme.id),
            literal(0),
        )
        .join(Response, Response.id == AnswerTheme.response_id)
        .where(*in_range)
        .group_by(day, AnswerTheme.key, AnswerTheme.spelling)
    )
    columns = ["grain", "start", "key", "spelling", "responses", "negative"]
    for query in (keys, spellings):
        session.execute(insert(ThemeTally).from_select(columns, query))


def negative_responses():
    """How many distinct responses of the group are negative (portable: no FILTER on DISTINCT)."""
    return func.count(case((Response.negative, AnswerTheme.response_id)).distinct())


def _count_theme_months(session: Session, start: date, end: date) -> None:
    """The month tallies of the whole months that the day tallies from `start` to `end` close."""
    first = start.replace(day=1)
    last = end.replace(day=1)  # the month `end` falls in is not whole yet
    if first >= last:
        return
    session.execute(
        delete(ThemeTally).where(
            ThemeTally.grain == "month", ThemeTally.start >= first, ThemeTally.start < last
        )
    )
    month = _month_of_day(session, ThemeTally.start)
    query = (
        select(
            literal("month"),
            month,
            ThemeTally.key,
            ThemeTally.spelling,
            func.sum(ThemeTally.responses),
            func.sum(ThemeTally.negative),
        )
        .where(ThemeTally.grain == "day", ThemeTally.start >= first, ThemeTally.start < last)
        .group_by(month, ThemeTally.key, ThemeTally.spelling)
    )
    columns = ["grain", "start", "key", "spelling", "responses", "negative"]
    session.execute(insert(ThemeTally).from_select(columns, query))


def _has_event(kind: str):
    return exists().where(CaseEvent.case_id == Case.id, CaseEvent.kind == kind)


def case_counts() -> tuple:
    """Cases opened, and of them escalated, fix confirmed, reopened and ever resolved (a
    reopen clears resolved_at, so those count too): the columns of CASE_COLUMNS."""
    reopened = _has_event("reopened")
    return (
        func.count(Case.id),
        func.count(Case.id).filter(_has_event("escalation")),
        func.count(Case.id).filter(_has_event("fix_confirmed")),
        func.count(Case.id).filter(reopened),
        func.count(Case.id).filter(Case.resolved_at.is_not(None) | reopened),
    )


# --- reading a range ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A range cut in three: the whole days `first` to `last` (exclusive) the tallies hold,
    and the rest (`edges`: the part-days at the ends and the days not counted yet)."""

    first: date
    last: date
    edges: list[InsightFilters] = field(default_factory=list)


def split(session: Session, filters: InsightFilters) -> Split | None:
    """How the tallies serve the range, or None when they cannot (filters chosen, never counted,
    or no whole counted day inside the range)."""
    if filters.owner_id is not None or filters.category or filters.question_set_key:
        return None
    done = complete_before(session)
    if done is None:
        return None
    start, end = filters.start.astimezone(UTC), filters.end.astimezone(UTC)
    first = start.date() if start == _midnight(start.date()) else start.date() + timedelta(1)
    last = min(end.date(), done)
    if first >= last:
        return None
    edges = []
    if start < _midnight(first):
        edges.append(replace(filters, start=start, end=_midnight(first)))
    if _midnight(last) < end:
        edges.append(replace(filters, start=_midnight(last), end=end))
    return Split(first, last, edges)


def days(session: Session, cut: Split) -> list[dict]:
    """The day tallies of the split's whole days, oldest first (a dict of columns a day),
    read once per session and refresh: a dashboard asks for them a dozen times."""
    cache = session.info.setdefault("insight_days", {})
    key = (cut.first, cut.last, _reach(session)[1])
    if key not in cache:
        if len(cache) >= 8:
            cache.clear()
        table = InsightDay.__table__
        result = session.execute(
            select(table)
            .where(table.c.day >= cut.first, table.c.day < cut.last)
            .order_by(table.c.day)
        )
        names = list(result.keys())
        cache[key] = [dict(zip(names, row, strict=True)) for row in result]
    return cache[key]


def tallied(
    session: Session,
    filters: InsightFilters,
    names: tuple[str, ...],
    raw: Callable[[InsightFilters], tuple],
) -> tuple[int, ...]:
    """The columns `names` summed over the range: the tallies' whole days, and `raw(part)` (the
    same figures read from the rows) for the rest, or for all of it when the tallies cannot."""
    cut = split(session, filters)
    if cut is None:
        return tuple(raw(filters))
    rows = days(session, cut)
    sums = [sum(row[name] for row in rows) for name in names]
    for edge in cut.edges:
        sums = [a + b for a, b in zip(sums, raw(edge), strict=True)]
    return tuple(sums)


def tallied_trend(
    session: Session,
    filters: InsightFilters,
    names: tuple[str, ...],
    step: str,
    raw: Callable[[InsightFilters], list],
) -> list[tuple[str, tuple[int, ...]]]:
    """The columns `names` summed per week or month (`step`), periods with anything counted,
    oldest first; `raw(part)` gives [(period, values)] read from the rows for a part."""
    cut = split(session, filters)
    if cut is None:
        return [(period, tuple(values)) for period, values in raw(filters)]
    periods: dict[str, list[int]] = {}
    for row in days(session, cut):
        values = [row[name] for name in names]
        if any(values):
            period = period_of(row["day"], step)
            sums = periods.setdefault(period, [0] * len(names))
            periods[period] = [a + b for a, b in zip(sums, values, strict=True)]
    for edge in cut.edges:
        for period, values in raw(edge):
            sums = periods.setdefault(period, [0] * len(names))
            periods[period] = [a + b for a, b in zip(sums, values, strict=True)]
    return [(period, tuple(periods[period])) for period in sorted(periods)]


def period_of(day, step: str) -> str:
    """The trend bucket a day falls in, as scope.bucket writes it: its week's Monday or its
    month's first day, 'YYYY-MM-DD'."""
    day = _as_date(day)
    if step == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.replace(day=1).isoformat()


def theme_pieces(session: Session, cut: Split):
    """The tallies' rows of the split's whole days (month rows for whole months, day rows for
    the rest): a selectable of (key, spelling, responses, negative)."""
    first_month = cut.first if cut.first.day == 1 else _next_month(cut.first)
    last_month = cut.last.replace(day=1)
    columns = (ThemeTally.key, ThemeTally.spelling, ThemeTally.responses, ThemeTally.negative)
    if first_month >= last_month:
        return [select(*columns).where(*_day_rows(cut.first, cut.last))]
    parts = [
        select(*columns).where(
            ThemeTally.grain == "month",
            ThemeTally.start >= first_month,
            ThemeTally.start < last_month,
        )
    ]
    if cut.first < first_month:
        parts.append(select(*columns).where(*_day_rows(cut.first, first_month)))
    if last_month < cut.last:
        parts.append(select(*columns).where(*_day_rows(last_month, cut.last)))
    return parts


def _day_rows(start: date, end: date):
    return (ThemeTally.grain == "day", ThemeTally.start >= start, ThemeTally.start < end)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
