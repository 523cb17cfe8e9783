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


def touch_figures(session: Session, filters: InsightFilters) -> TouchFigures:
    row = session.execute(select(*_tally_columns()).where(*touch_filters(filters))).one()
    return TouchFigures(*row)


def touch_trend(session: Session, filters: InsightFilters) -> list[tuple[str, TouchFigures]]:
    period = bucket(session, Touchpoint.occurred_at, grain(filters)).label("period")
    rows = session.execute(
        select(period, *_tally_columns())
        .where(*touch_filters(filters))
        .group_by(period)
        .order_by(period)
    ).all()
    return [(row[0], TouchFigures(row[1], row[2])) for row in rows]


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
