"""Touch points across the business: positive and negative touches of a range against the aim of
ten to one, their trend, and how many customers are neglected now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal_column, not_, select
from sqlalchemy.orm import Session

from surveys.models import Customer, Touchpoint
from surveys.services.customers.neglect import NEGLECT_DAYS
from surveys.services.customers.touchpoints import AIM
from surveys.services.insights import tallies
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import bucket, grain, owner_customers, touch_filters


@dataclass(frozen=True)
class TouchFigures:
    positive: int = 0
    negative: int = 0

    @property
    def ratio(self) -> float | None:
        """Positive touches per negative one; None when there was no negative touch."""
        return self.positive / self.negative if self.negative else None

    @property
    def meets_aim(self) -> bool:
        return self.positive >= AIM * self.negative


def _tally_columns():
    return (
        func.count(Touchpoint.id).filter(Touchpoint.polarity == "positive"),
        func.count(Touchpoint.id).filter(Touchpoint.polarity == "negative"),
    )


TOUCH_COLUMNS = ("positive_touches", "negative_touches")


def touch_figures(session: Session, filters: InsightFilters) -> TouchFigures:
    def counted(part: InsightFilters) -> tuple:
        return tuple(session.execute(select(*_tally_columns()).where(*touch_filters(part))).one())

    return TouchFigures(*tallies.tallied(session, filters, TOUCH_COLUMNS, counted))


def touch_trend(session: Session, filters: InsightFilters) -> list[tuple[str, TouchFigures]]:
    step = grain(filters)

    def counted(part: InsightFilters) -> list:
        period = bucket(session, Touchpoint.occurred_at, step).label("period")
        rows = session.execute(
            select(period, *_tally_columns())
            .where(*touch_filters(part))
            .group_by(period)
            .order_by(period)
        ).all()
        return [(row[0], tuple(row[1:])) for row in rows]

    trend = tallies.tallied_trend(session, filters, TOUCH_COLUMNS, step, counted)
    return [(period, TouchFigures(*values)) for period, values in trend]


@dataclass(frozen=True)
class NeglectCount:
    count: int
    # Kept for callers that said "at least" past the list's length: the count is exact now.
    at_least: bool = False


def neglected_count(session: Session, *, now: datetime, owner_id: int | None) -> NeglectCount:
    """How many customers are neglected now, exactly (the owner's own customers when given);
    a figure of today, not of the range. The neglected page's rule, counted in two parts that
    each have a partial index (ix_customers_short_of_aim, ix_customers_quiet_since)."""
    positive, negative = Customer.positive_touches, Customer.negative_touches
    # Inline, not a parameter: the planner matches it against the partial indexes' condition.
    short = and_(negative > 0, positive < literal_column(str(AIM)) * negative)
    quiet_since = func.coalesce(Customer.last_positive_touch_at, Customer.created_at)
    cutoff = now - timedelta(days=NEGLECT_DAYS)
    kept = [Customer.erased_at.is_(None)]
    if owner_id is not None:
        kept.append(Customer.id.in_(owner_customers(owner_id)))
    short_of_aim = session.scalar(select(func.count()).select_from(Customer).where(*kept, short))
    quiet = session.scalar(
        select(func.count()).select_from(Customer).where(*kept, not_(short), quiet_since < cutoff)
    )
    return NeglectCount(short_of_aim + quiet)
