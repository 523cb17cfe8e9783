"""Touch points across the business: positive and negative touches of a range against the aim of
ten to one, their trend, and how many customers are neglected now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Touchpoint
from surveys.services.customers.neglect import LIST_LIMIT, neglected_customers
from surveys.services.customers.touchpoints import AIM
from surveys.services.insights import rollups
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import bucket, grain, touch_filters


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

    return TouchFigures(*rollups.tallied(session, filters, TOUCH_COLUMNS, counted))


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

    trend = rollups.tallied_trend(session, filters, TOUCH_COLUMNS, step, counted)
    return [(period, TouchFigures(*values)) for period, values in trend]


@dataclass(frozen=True)
class NeglectCount:
    count: int
    # The neglected list stops at LIST_LIMIT; past it the page says "at least".
    at_least: bool


def neglected_count(session: Session, *, now: datetime, owner_id: int | None) -> NeglectCount:
    """How many customers are neglected now (the neglected page's list, the owner's own when
    given); it is a figure of today, not of the range."""
    everyone = neglected_customers(session, now=now)
    listed = everyone
    if owner_id is not None:
        listed = [row for row in everyone if row.customer.owner_id == owner_id]
    return NeglectCount(len(listed), len(everyone) >= LIST_LIMIT)
