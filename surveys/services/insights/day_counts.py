"""The figures of each UTC day, counted from the rows in one pass a table: what the worker
writes into the day tallies (rollups.py) and what a page reads for the part-days the tallies do
not hold (tallies.py), so both count alike: responses and their answers by submitted day,
surveys by sent day, survey mail events by their day, touch points by theirs, cases by opened
day; everyone's, an owner's, some customers' and cases', or each owner's as counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Date, and_, case, cast, exists, func, or_, select, text
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    AnswerTheme,
    Case,
    CaseEvent,
    EmailEvent,
    InsightOwnerCase,
    InsightOwnerCustomer,
    InsightRollup,
    Question,
    Response,
    Survey,
    Touchpoint,
)
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import cases_kept, customers_kept

UNSUBSCRIBE_EVENTS = ("unsubscribe", "group_unsubscribe")
BOUNCE_EVENTS = ("bounce",)
PROMOTER_VALUES = ("9", "10")
PASSIVE_VALUES = ("7", "8")
DETRACTOR_VALUES = tuple(str(n) for n in range(7))


def day_of(session: Session, column) -> ColumnElement:
    """The UTC day of a timestamp column, as a date (PostgreSQL) or 'YYYY-MM-DD' (SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def month_of_day(session: Session, column) -> ColumnElement:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


def month_of(session: Session, column) -> ColumnElement:
    """The first day of the UTC month of a timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", func.timezone("UTC", column)), Date)
    return func.date(column, "start of month")


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def reach(session: Session) -> tuple[date | None, datetime | None]:
    """(complete_before, refreshed_at), read once per session: a dashboard splits a dozen
    ranges. A refresh in the same session forgets it."""
    if "insight_reach" not in session.info:
        row = session.execute(
            select(InsightRollup.complete_before, InsightRollup.refreshed_at).where(
                InsightRollup.id == 1
            )
        ).first()
        session.info["insight_reach"] = (
            as_date(row[0]) if row and row[0] else None,
            row[1] if row else None,
        )
    return session.info["insight_reach"]


def complete_before(session: Session) -> date | None:
    """Every day before this one is in the tallies; None when they were never counted."""
    return reach(session)[0]


def small_reads(session: Session) -> None:
    """The insight pages and the inbox read a few thousand rows a statement (tallies,
    part-days, an owner's cases): on PostgreSQL, for the rest of the transaction, no parallel
    workers and no JIT compilation. Workers cost more to start than they save, and their lower
    estimates lead the planner to scan a whole table instead of walking an index (a part-day's
    themes: 190 ms against 26 ms at a million responses); compiling a statement whose cost
    estimate counts a subquery per row (who each of 5,000 cases waits on) took 8 to 20 ms of a
    statement that runs in 15."""
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    if transaction is None or session.info.get("small_reads") is not transaction:
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        session.execute(text("SET LOCAL jit = off"))
        session.info["small_reads"] = session.get_transaction()


def within(column, intervals) -> ColumnElement[bool]:
    parts = [and_(column >= low, column < high) for low, high in intervals]
    return parts[0] if len(parts) == 1 else or_(*parts)


@dataclass(frozen=True)
class Count:
    """What a count reads: the rows of `intervals` (half-open, UTC), of everyone, of whom
    `scope` names (an owner, or some customers and cases: scope.customers_kept, cases_kept),
    or of each owner as counted (`by_owner`: grouped by owner through the counted customers
    and cases, only `owners` when given)."""

    intervals: tuple[tuple[datetime, datetime], ...]
    scope: InsightFilters | None = None
    by_owner: bool = False
    owners: tuple[int, ...] | None = None


def by_day(session: Session, count: Count, column, *columns, customer=None, joins=(), where=()):
    """{(interval index, owner id or None, day): the `columns`} of the rows dated by `column`;
    `customer` is the rows' customer id column (None: the rows are cases)."""
    day = day_of(session, column)
    keys = [day]
    if len(count.intervals) > 1:
        index = case(
            *((within(column, [interval]), i) for i, interval in enumerate(count.intervals))
        )
        keys.insert(0, index)
    query_joins, conditions = list(joins), [within(column, count.intervals), *where]
    if count.by_owner:
        if customer is not None:
            counted = InsightOwnerCustomer
            query_joins.append((counted, counted.customer_id == customer))
        else:
            counted = InsightOwnerCase
            query_joins.append((counted, counted.case_id == Case.id))
        keys.insert(0, counted.owner_id)
        if count.owners is not None:
            conditions.append(counted.owner_id.in_(count.owners))
    elif count.scope is not None:
        conditions += (
            customers_kept(count.scope, customer)
            if customer is not None
            else cases_kept(count.scope)
        )
    query = select(*keys, *columns)
    for target, on in query_joins:
        query = query.join(target, on)
    found = {}
    width = len(keys)
    for row in session.execute(query.where(*conditions).group_by(*keys)):
        owner = row[0] if count.by_owner else None
        index = row[width - 2] if len(count.intervals) > 1 else 0
        found[(index, owner, as_date(row[width - 1]))] = tuple(row[width:])
    return found


def day_rows(session: Session, count: Count) -> dict[tuple, dict[str, int]]:
    """The DAY_COLUMNS of each (interval index, owner, day) the count finds anything in: six
    statements, one a table, whatever the number of intervals and owners."""
    total = func.count
    answers = by_day(
        session,
        count,
        Response.submitted_at,
        total(Response.id),
        total(Response.id).filter(Response.negative),
        customer=Response.customer_id,
    )

    def answered(key: str, values):
        return total(Answer.id).filter(Question.key == key, Answer.value.in_(values))

    choices = by_day(
        session,
        count,
        Response.submitted_at,
        answered("recommend", PROMOTER_VALUES),
        answered("recommend", PASSIVE_VALUES),
        answered("recommend", DETRACTOR_VALUES),
        *(answered("expectations", (v,)) for v in ("exceeding", "meeting", "short")),
        *(answered("time_money", (v,)) for v in ("yes", "somewhat", "no")),
        customer=Response.customer_id,
        joins=[
            (Answer, Answer.response_id == Response.id),
            (Question, Question.id == Answer.question_id),
        ],
        where=[Question.key.in_(("recommend", "expectations", "time_money"))],
    )
    surveys = by_day(
        session,
        count,
        Survey.sent_at,
        total(Survey.id),
        total(Survey.id).filter(Survey.answered_at.is_not(None)),
        total(Survey.id).filter(Survey.opened_at.is_not(None)),
        total(Survey.id).filter(Survey.clicked_at.is_not(None)),
        customer=Survey.customer_id,
    )
    events = by_day(
        session,
        count,
        EmailEvent.occurred_at,
        total(EmailEvent.id).filter(EmailEvent.event.in_(UNSUBSCRIBE_EVENTS)),
        total(EmailEvent.id).filter(EmailEvent.event.in_(BOUNCE_EVENTS)),
        customer=Survey.customer_id,
        joins=[(Survey, Survey.id == EmailEvent.survey_id)],
        where=[EmailEvent.event.in_(UNSUBSCRIBE_EVENTS + BOUNCE_EVENTS)],
    )
    touches = by_day(
        session,
        count,
        Touchpoint.occurred_at,
        total(Touchpoint.id).filter(Touchpoint.polarity == "positive"),
        total(Touchpoint.id).filter(Touchpoint.polarity == "negative"),
        customer=Touchpoint.customer_id,
    )
    cases = by_day(session, count, Case.created_at, *case_counts())
    rows = {}
    found = set(answers) | set(choices) | set(surveys) | set(events) | set(touches) | set(cases)
    for key in sorted(found, key=lambda key: (key[0], key[1] or 0, key[2])):
        values = (
            answers.get(key, (0, 0))
            + choices.get(key, (0,) * 9)
            + surveys.get(key, (0,) * 4)
            + events.get(key, (0, 0))
            + touches.get(key, (0, 0))
            + cases.get(key, (0,) * 5)
        )
        rows[key] = dict(zip(DAY_COLUMNS, values, strict=True))
    return rows


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


def negative_responses():
    """How many distinct responses of the group are negative (portable: no FILTER on DISTINCT)."""
    return func.count(case((Response.negative, AnswerTheme.response_id)).distinct())
