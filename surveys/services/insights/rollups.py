"""What keeps the insight pages fast at millions of answers.

Themes: each written answer's themes are read once, when the answer is recorded, into
`answer_themes` (same transaction); pages count them with SQL instead of reading the words.

Day tallies: the worker counts each UTC day's figures into `insight_days` (and the themes into
`theme_tallies`, by day and by month) up to yesterday. A figure over a range then adds up the
tallies of the whole days the tallies reach, and reads the rows themselves only for what is
left: the part-days at either end and the days since the last refresh. So a figure costs about
a row per day of the range, however many answers a day brings. Each pass recounts the last
RECOUNT_DAYS, as answers, opens and clicks of a survey arrive while its link works.

Owner tallies: the same figures per owner (`insight_owner_days`, and themes by whole month in
`owner_theme_tallies`), counted for the customers and cases each owner had then; owner_scope.py
keeps those and tells a page what changed hands since. Reading a range: tallies.py; counting
a day: day_counts.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Session

from surveys.models import (
    AnswerTheme,
    InsightDay,
    InsightOwnerCustomer,
    InsightOwnerDay,
    InsightRollup,
    OwnerThemeTally,
    Response,
    Survey,
    ThemeTally,
    Touchpoint,
)
from surveys.services.insights import owner_scope
from surveys.services.insights.day_counts import (
    Count,
    as_date,
    complete_before,
    day_of,
    day_rows,
    midnight,
    month_of,
    month_of_day,
    negative_responses,
    next_month,
)

# Answers, opens and clicks come in while a survey's link works (30 days by default): each
# refresh counts these last days again.
RECOUNT_DAYS = 45
REFRESH_EVERY = timedelta(hours=1)


# --- themes of each written answer (recorded by themes.record_answer_themes) -------------------


def forget_answer_themes(session: Session, answer_ids: list[int]) -> None:
    """The answers' words are gone (erased): so are their themes, and the tallies of their days
    are counted again."""
    if not answer_ids:
        return
    theirs = (
        select(day_of(session, Response.submitted_at), Response.customer_id)
        .join(AnswerTheme, AnswerTheme.response_id == Response.id)
        .where(AnswerTheme.answer_id.in_(answer_ids))
        .distinct()
    )
    found = session.execute(theirs).all()
    days = {as_date(day) for day, _customer in found}
    owners = tuple(
        session.scalars(
            select(InsightOwnerCustomer.owner_id)
            .where(InsightOwnerCustomer.customer_id.in_({c for _day, c in found}))
            .distinct()
        )
    )
    session.execute(delete(AnswerTheme).where(AnswerTheme.answer_id.in_(answer_ids)))
    done = complete_before(session)
    for day in days:
        if done is not None and day < done:
            _count_theme_days(session, day, day + timedelta(days=1))
            if next_month(day) <= done:  # its month is counted whole: count it again
                _count_theme_months(session, day.replace(day=1), next_month(day))
                if owners:
                    _count_owner_theme_months(session, day, next_month(day), owners)


# --- days --------------------------------------------------------------------------------------


def _state(session: Session) -> InsightRollup:
    """The one row (migration 0013 writes it), locked: refreshes take turns, and the second
    then finds the days counted."""
    state = session.scalar(select(InsightRollup).where(InsightRollup.id == 1).with_for_update())
    if state is None:
        state = InsightRollup(id=1)
        session.add(state)
        session.flush()
    return state


# --- the worker's refresh ----------------------------------------------------------------------


def refresh_rollups(session: Session, now: datetime, *, full: bool = False) -> int:
    """Count the days up to yesterday (UTC) into the tallies: every day the first time (or with
    `full`), then the last RECOUNT_DAYS, at most once every REFRESH_EVERY. Each owner's days
    too: the last RECOUNT_DAYS for every owner, and every day of the owners whose customers or
    cases changed since their count (owner_scope.py). Returns the days counted. Safe to run
    twice or in two workers at once: the second counts the same."""
    session.info.pop("insight_reach", None)
    session.info.pop("insight_days", None)
    state = _state(session)
    today = now.astimezone(UTC).date()
    fresh = state.refreshed_at is not None and now - state.refreshed_at < REFRESH_EVERY
    if not full and state.complete_before == today and fresh:
        return 0
    oldest = _oldest_day(session, today)
    everything = full or state.complete_before is None
    first = (
        oldest if everything else min(state.complete_before, today) - timedelta(days=RECOUNT_DAYS)
    )
    changed = owner_scope.bring_up_to_date(session, recounted_from=midnight(first))
    if everything:
        session.execute(delete(InsightOwnerDay))
        session.execute(delete(OwnerThemeTally))
    _count_days(session, first, today)
    _count_theme_days(session, first, today)
    _count_theme_months(session, first, today)
    _count_owner_days(session, first, today)
    _count_owner_theme_months(session, first, today)
    if changed and oldest < first:
        owners = tuple(sorted(changed))
        _count_owner_days(session, oldest, first, owners)
        _count_owner_theme_months(session, oldest, first, owners)
    state.complete_before = today
    state.refreshed_at = now
    session.flush()
    session.info.pop("insight_reach", None)
    owner_scope.forget_scope_changes(session)
    return (today - first).days


def _oldest_day(session: Session, today: date) -> date:
    """The first day anything counted happened on (today when nothing did)."""
    known = [
        session.scalar(select(func.min(column)))
        for column in (Response.submitted_at, Survey.sent_at, Touchpoint.occurred_at)
    ]
    known = [moment for moment in known if moment]
    return min(min(known).astimezone(UTC).date(), today) if known else today


def refresh_insight_rollups(session: Session, now: datetime) -> int:
    """The worker's timed job (see services/timed_work.py)."""
    return refresh_rollups(session, now)


def _whole_days(start: date, end: date) -> tuple[tuple[datetime, datetime], ...]:
    return ((midnight(start), midnight(end)),)


def _count_days(session: Session, start: date, end: date) -> None:
    rows = day_rows(session, Count(_whole_days(start, end)))
    session.execute(delete(InsightDay).where(InsightDay.day >= start, InsightDay.day < end))
    if rows:
        session.execute(
            insert(InsightDay), [{**row, "day": day} for (_i, _o, day), row in rows.items()]
        )


def _count_owner_days(
    session: Session, start: date, end: date, owners: tuple[int, ...] | None = None
) -> None:
    """Each owner's days from `start` to `end`, for the customers and cases counted for them
    (owner_scope.bring_up_to_date brought those up to date first); only `owners` if given."""
    rows = day_rows(session, Count(_whole_days(start, end), by_owner=True, owners=owners))
    old = delete(InsightOwnerDay).where(InsightOwnerDay.day >= start, InsightOwnerDay.day < end)
    if owners is not None:
        old = old.where(InsightOwnerDay.owner_id.in_(owners))
    session.execute(old)
    if rows:
        session.execute(
            insert(InsightOwnerDay),
            [{**row, "owner_id": owner, "day": day} for (_i, owner, day), row in rows.items()],
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
        Response.submitted_at >= midnight(start),
        Response.submitted_at < midnight(end),
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


def _count_owner_theme_months(
    session: Session, start: date, end: date, owners: tuple[int, ...] | None = None
) -> None:
    """Each owner's theme tallies of the whole months from `start`'s to before `end`'s, read
    from the answers' themes of the customers counted for them; only `owners` if given."""
    first, last = start.replace(day=1), end.replace(day=1)
    if first >= last:
        return
    old = delete(OwnerThemeTally).where(
        OwnerThemeTally.month >= first, OwnerThemeTally.month < last
    )
    if owners is not None:
        old = old.where(OwnerThemeTally.owner_id.in_(owners))
    session.execute(old)
    month = month_of(session, Response.submitted_at)
    counted = InsightOwnerCustomer
    conditions = [
        Response.submitted_at >= midnight(first),
        Response.submitted_at < midnight(last),
    ]
    if owners is not None:
        conditions.append(counted.owner_id.in_(owners))

    def grouped(*columns, by=()):
        return (
            select(counted.owner_id, month, AnswerTheme.key, *columns)
            .join(Response, Response.id == AnswerTheme.response_id)
            .join(counted, counted.customer_id == Response.customer_id)
            .where(*conditions)
            .group_by(counted.owner_id, month, AnswerTheme.key, *by)
        )

    keys = grouped(
        literal(""), func.count(AnswerTheme.response_id.distinct()), negative_responses()
    )
    spellings = grouped(
        AnswerTheme.spelling, func.count(AnswerTheme.id), literal(0), by=[AnswerTheme.spelling]
    )
    columns = ["owner_id", "month", "key", "spelling", "responses", "negative"]
    for query in (keys, spellings):
        session.execute(insert(OwnerThemeTally).from_select(columns, query))


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
    month = month_of_day(session, ThemeTally.start)
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
