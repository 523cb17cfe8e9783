"""How well the loop closes, for the cases opened in a range: how many, how fast they were
acknowledged and resolved (median and 90th percentile against the targets in settings),
escalations, whether fixes worked, reopens, and cases still waiting for an owner.

Percentiles: on PostgreSQL `percentile_cont` computes them in the database; SQLite has no
ordered-set aggregate, so there the sorted durations of the range (one number a case, nothing
else) are fetched and interpolated the same way, so both databases give the same figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select, within_group
from sqlalchemy.orm import Session

from surveys.models import Case
from surveys.models.cases import CaseStatus
from surveys.services.insights import tallies
from surveys.services.insights.day_counts import CASE_COLUMNS, case_counts
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import case_filters, seconds_between, share
from surveys.services.settings import all_settings


@dataclass(frozen=True)
class Timing:
    """How long the cases that got there took, in hours, against the target."""

    count: int
    on_time: int
    median_hours: float | None
    p90_hours: float | None
    target_hours: float

    @property
    def on_time_share(self) -> float | None:
        return share(self.on_time, self.count)


@dataclass(frozen=True)
class CaseFigures:
    opened: int
    acknowledge: Timing
    resolve: Timing
    escalated: int
    # Cases whose fix was checked with the customer: confirmed, or reopened.
    fix_confirmed: int
    reopened: int
    # Cases resolved at least once (a reopen clears resolved_at, so those count too).
    ever_resolved: int
    # Now, not in the range: open cases nobody could own (None on an owner's own dashboard).
    waiting_for_owner: int | None

    @property
    def escalation_rate(self) -> float | None:
        return share(self.escalated, self.opened)

    @property
    def fix_worked_rate(self) -> float | None:
        """Confirmed fixes out of the fix-checks that came back either way."""
        return share(self.fix_confirmed, self.fix_confirmed + self.reopened)

    @property
    def reopen_rate(self) -> float | None:
        return share(self.reopened, self.ever_resolved)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _timings(session: Session, filters: InsightFilters, targets: tuple[float, float]):
    """The Timing to acknowledge and the one to resolve; on PostgreSQL one pass over the range's
    cases for the counts and the four percentiles (a case not there yet has no duration, and
    percentile_cont leaves out the NULLs)."""
    stages = ((Case.acknowledged_at, Case.acknowledge_by), (Case.resolved_at, Case.resolve_by))
    conditions = case_filters(filters)
    columns = []
    for done_at, due_at in stages:
        took = seconds_between(session, done_at, Case.created_at)
        columns.append(func.count(Case.id).filter(done_at.is_not(None)))
        columns.append(func.count(Case.id).filter(done_at.is_not(None), done_at <= due_at))
        if session.get_bind().dialect.name == "postgresql":
            columns.append(within_group(func.percentile_cont(0.5), took))
            columns.append(within_group(func.percentile_cont(0.9), took))
    row = session.execute(select(*columns).where(*conditions)).one()
    timings = []
    for i, ((done_at, _due_at), target) in enumerate(zip(stages, targets, strict=True)):
        if session.get_bind().dialect.name == "postgresql":
            count, on_time, median, p90 = row[4 * i : 4 * i + 4]
        else:
            # SQLite has no ordered-set aggregate: the sorted durations, interpolated alike.
            count, on_time = row[2 * i : 2 * i + 2]
            took = seconds_between(session, done_at, Case.created_at)
            durations = list(
                session.scalars(
                    select(took).where(*conditions, done_at.is_not(None)).order_by(took)
                )
            )
            median, p90 = percentile(durations, 0.5), percentile(durations, 0.9)
        timings.append(
            Timing(
                count=count,
                on_time=on_time,
                median_hours=None if median is None else float(median) / 3600,
                p90_hours=None if p90 is None else float(p90) / 3600,
                target_hours=target,
            )
        )
    return timings


def case_figures(session: Session, filters: InsightFilters, *, waiting: bool = True) -> CaseFigures:
    """Every case figure of the range (cases opened in it, scoped by the filters); the counts
    from the day tallies where they reach (tallies.py). `waiting` False leaves out the count of
    now (for the previous period, which does not show it)."""

    def counted(part: InsightFilters) -> tuple:
        return tuple(session.execute(select(*case_counts()).where(*case_filters(part))).one())

    opened, escalated, confirmed, reopened_count, ever_resolved = tallies.tallied(
        session, filters, CASE_COLUMNS, counted
    )
    waiting_now = None
    if waiting and filters.owner_id is None:
        waiting_now = session.scalar(
            select(func.count(Case.id)).where(
                Case.owner_id.is_(None), Case.status != CaseStatus.CLOSED
            )
        )
    settings = all_settings(session)  # one statement for both targets
    targets = (float(settings["acknowledge_hours"]), float(settings["resolve_hours"]))
    acknowledge, resolve = _timings(session, filters, targets)
    return CaseFigures(
        opened=opened,
        acknowledge=acknowledge,
        resolve=resolve,
        escalated=escalated,
        fix_confirmed=confirmed,
        reopened=reopened_count,
        ever_resolved=ever_resolved,
        waiting_for_owner=waiting_now,
    )
