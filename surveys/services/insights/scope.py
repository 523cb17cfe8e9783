"""The SQL conditions an `InsightFilters` puts on surveys, responses, cases and touch points, and
the week or month a timestamp falls in (the buckets of every trend), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, func, literal_column, select, union
from sqlalchemy.orm import Session

from surveys.models import Case, Customer, PurchaseItem, QuestionSet, Response, Survey, Touchpoint
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.properties import purchases_with_property

# Up to half a year, a trend is drawn week by week; longer ranges month by month (a chart of
# 150 weekly points says less than one of 36 months).
WEEKLY_UP_TO = timedelta(days=183)


def grain(filters: InsightFilters) -> str:
    """ "week" or "month": the step of the range's trends."""
    return "week" if filters.length <= WEEKLY_UP_TO else "month"


def bucket(session: Session, column, step: str) -> ColumnElement[str]:
    """The first day of the UTC week (Monday) or month `column` falls in, as 'YYYY-MM-DD'."""
    if session.get_bind().dialect.name == "postgresql":
        # timestamptz is truncated in the session's zone; the figures are in UTC.
        utc = func.timezone("UTC", column)
        return func.to_char(func.date_trunc(step, utc), literal_column("'YYYY-MM-DD'"))
    if step == "week":
        # SQLite: forward to Sunday (a Sunday stays), then back six days: that week's Monday.
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)


def seconds_between(session: Session, later, earlier) -> ColumnElement[float]:
    """`later - earlier` in seconds, as a number both databases can sort and aggregate."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def owner_customers(owner_id: int):
    """The customers an owner looks after: those they are account owner of and those of their
    cases, the people `may_see_customer` lets them open. The one rule of an owner's figures,
    feed and themes: their answers, surveys and touch points are these customers'."""
    return union(
        select(Customer.id).where(Customer.owner_id == owner_id),
        select(Case.customer_id).where(Case.owner_id == owner_id),
    )


def customers_kept(filters: InsightFilters, column) -> list[ColumnElement[bool]]:
    """`column` (a customer id) among the customers the filters name, or the owner's."""
    if filters.customer_ids is not None:
        return [column.in_(filters.customer_ids)]
    if filters.owner_id is not None:
        return [column.in_(owner_customers(filters.owner_id))]
    return []


def cases_kept(filters: InsightFilters) -> list[ColumnElement[bool]]:
    """The cases the filters name, or the owner's own."""
    if filters.case_ids is not None:
        return [Case.id.in_(filters.case_ids)]
    if filters.owner_id is not None:
        return [Case.owner_id == filters.owner_id]
    return []


def _purchases_in(category: str):
    return select(PurchaseItem.purchase_id).where(PurchaseItem.category == category)


def _sets_named(key: str):
    return select(QuestionSet.id).where(QuestionSet.key == key)


def _survey_kept(filters: InsightFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.category is not None:
        conditions.append(Survey.purchase_id.in_(_purchases_in(filters.category)))
    if filters.by_property:
        conditions.append(
            Survey.purchase_id.in_(
                purchases_with_property(filters.property_name, filters.property_value)
            )
        )
    if filters.question_set_key is not None:
        conditions.append(Survey.question_set_id.in_(_sets_named(filters.question_set_key)))
    return conditions


def survey_filters(filters: InsightFilters) -> list[ColumnElement[bool]]:
    """Which surveys the filters keep (not the date: each figure dates surveys its own way):
    of the item category, of the question set, to the owner's customers."""
    return _survey_kept(filters) + customers_kept(filters, Survey.customer_id)


def response_filters(filters: InsightFilters, *, dated: bool = True) -> list[ColumnElement[bool]]:
    """Responses submitted in the range (unless `dated` is False, for a caller reading two
    periods at once) whose survey the filters keep, from the owner's customers."""
    conditions: list[ColumnElement[bool]] = []
    if dated:
        conditions += [Response.submitted_at >= filters.start, Response.submitted_at < filters.end]
    conditions += customers_kept(filters, Response.customer_id)
    on_survey = _survey_kept(filters)
    if on_survey:
        conditions.append(Response.survey_id.in_(select(Survey.id).where(*on_survey)))
    return conditions


def case_filters(filters: InsightFilters) -> list[ColumnElement[bool]]:
    """Cases opened in the range, the owner's own when an owner is chosen."""
    conditions = [Case.created_at >= filters.start, Case.created_at < filters.end]
    conditions += cases_kept(filters)
    if filters.category is not None:
        conditions.append(Case.purchase_id.in_(_purchases_in(filters.category)))
    if filters.by_property:
        conditions.append(
            Case.purchase_id.in_(
                purchases_with_property(filters.property_name, filters.property_value)
            )
        )
    if filters.question_set_key is not None:
        answered_set = (
            select(Response.id)
            .join(Survey, Survey.id == Response.survey_id)
            .where(Survey.question_set_id.in_(_sets_named(filters.question_set_key)))
        )
        conditions.append(Case.response_id.in_(answered_set))
    return conditions


def touch_filters(filters: InsightFilters) -> list[ColumnElement[bool]]:
    """Touch points in the range, with the owner's customers only when an owner is chosen.

    A touch belongs to a customer, not to a purchase or a question set: those two filters do not
    narrow it (the dashboard says so beside the figure).
    """
    return [
        Touchpoint.occurred_at >= filters.start,
        Touchpoint.occurred_at < filters.end,
        *customers_kept(filters, Touchpoint.customer_id),
    ]


def share(part: int, whole: int) -> float | None:
    """`part / whole`, or None when there is nothing to divide (a dash, not 0%)."""
    return part / whole if whole else None
