"""The comment feed: responses newest first, the customer's written words first, filtered like
the dashboard plus negative / with a comment / a theme / a search, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased, joinedload

from surveys.models import Answer, AnswerTheme, Case, Customer, Question
from surveys.models.surveys import Response
from surveys.services.cases.queries import answer_in_words
from surveys.services.insights.feed_scope import response_conditions
from surveys.services.insights.filters import InsightFilters

PER_PAGE = 25
# Whole written answers that are no comment at all; `text_reading.is_real_answer` knows more,
# but the feed filters in SQL, and these are the ones customers type most.
_NO_COMMENT = ("", "no", "none", "nothing", "n/a", "na", "-", ".", "no comment", "nope")


class FeedError(ValueError):
    """The feed was asked for something it cannot show (a page after a response that is gone)."""


@dataclass(frozen=True)
class FeedQuery:
    filters: InsightFilters
    negative: bool = False
    with_comment: bool = False
    theme: str | None = None  # a theme key (stems joined by spaces), see themes.theme_key
    group: str | None = None  # "promoter", "passive" or "detractor" by the 0-10 answer
    search: str | None = None
    before: int | None = None  # the last response id of the previous page
    per_page: int = PER_PAGE


@dataclass
class FeedItem:
    response_id: int
    submitted_at: datetime
    negative: bool
    customer_id: int
    customer_name: str
    case_id: int | None
    # (question, words) of the written answers, then of the others ("4 out of 10", "Meeting").
    words: list[tuple[Answer, str]] = field(default_factory=list)
    others: list[tuple[Answer, str]] = field(default_factory=list)


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_before: int | None  # pass as `before` for the next (older) page; None on the last


def _has_comment() -> ColumnElement[bool]:
    # Aliases: the themes' read of written answers joins answers and questions already.
    answer, question = aliased(Answer), aliased(Question)
    return exists().where(
        answer.response_id == Response.id,
        question.id == answer.question_id,
        question.type == "text",
        answer.value.is_not(None),
        func.lower(func.trim(answer.value)).not_in(_NO_COMMENT),
    )


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _searched(text: str) -> ColumnElement[bool]:
    """The customer's name or email, or any answer's words, hold the text (any case)."""
    pattern = _like(text)
    customer, answer = aliased(Customer), aliased(Answer)
    return or_(
        exists().where(
            customer.id == Response.customer_id,
            or_(
                func.lower(customer.name).like(pattern, escape="\\"),
                func.lower(customer.email).like(pattern, escape="\\"),
            ),
        ),
        exists().where(
            answer.response_id == Response.id,
            func.lower(answer.value).like(pattern, escape="\\"),
        ),
    )


def _conditions(query: FeedQuery) -> list[ColumnElement]:
    conditions = response_conditions(query.filters)
    if query.negative:
        conditions.append(Response.negative.is_(True))
    if query.with_comment:
        conditions.append(_has_comment())
    if query.search:
        conditions.append(_searched(query.search))
    if query.group:
        conditions.append(_in_group(query.group))
    return conditions


# The net score's groups by the 0-10 answer, as the dashboard counts them.
NET_SCORE_GROUPS = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}


def _in_group(group: str) -> ColumnElement[bool]:
    low, high = NET_SCORE_GROUPS[group]
    # Compared as the stored text ("0" to "10"): a cast could meet another question's answer
    # first, since the database may test the conditions in any order.
    scores = [str(score) for score in range(low, high + 1)]
    return exists(
        select(Answer.id)
        .join(Question, Question.id == Answer.question_id)
        .where(
            Answer.response_id == Response.id,
            Question.key == "recommend",
            Answer.value.in_(scores),
        )
    )


def feed_page(session: Session, query: FeedQuery) -> FeedPage:
    """One page of the feed: one query for the page's responses, one for their answers (and,
    with a theme, one that reads the period's written answers to find the responses)."""
    cursor = None
    if query.before is not None:
        submitted_at = session.scalar(
            select(Response.submitted_at).where(Response.id == query.before)
        )
        if submitted_at is None:
            raise FeedError(_("The page to continue from is gone; start again from the newest."))
        cursor = (submitted_at, query.before)

    page = (
        select(
            Response.id,
            Response.submitted_at,
            Response.negative,
            Customer.id,
            Customer.name,
            Customer.email,
            Customer.erased_at,
            Case.id,
        )
        .join(Customer, Customer.id == Response.customer_id)
        .outerjoin(Case, Case.response_id == Response.id)
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    page = page.where(*_conditions(query))
    if query.theme is not None:
        # Each written answer's themes were recorded with it (themes.record_answer_themes).
        page = page.where(
            Response.id.in_(select(AnswerTheme.response_id).where(AnswerTheme.key == query.theme))
        )
    if cursor is not None:
        # A row-value comparison, so the (submitted_at, id) order can seek its index.
        page = page.where(tuple_(Response.submitted_at, Response.id) < tuple_(*cursor))
    rows = session.execute(page.limit(query.per_page + 1)).all()
    more = len(rows) > query.per_page
    rows = rows[: query.per_page]
    items = {
        row[0]: FeedItem(
            response_id=row[0],
            submitted_at=row[1],
            negative=row[2],
            customer_id=row[3],
            customer_name="erased customer" if row[6] is not None else (row[4] or row[5]),
            case_id=row[7],
        )
        for row in rows
    }
    _add_answers(session, items)
    return FeedPage(list(items.values()), rows[-1][0] if more else None)


def _add_answers(session: Session, items: dict[int, FeedItem]) -> None:
    if not items:
        return
    answers = session.scalars(
        select(Answer)
        .options(joinedload(Answer.question))
        .where(Answer.response_id.in_(items))
        .order_by(Answer.response_id, Answer.position)
    ).all()
    for answer in answers:
        # Worded for the reader of the page: a score reads "4 de 10" in Spanish.
        words = answer_in_words(answer)
        if not words:
            continue
        item = items[answer.response_id]
        (item.words if answer.question.type == "text" else item.others).append((answer, words))
