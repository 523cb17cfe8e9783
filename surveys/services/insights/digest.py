"""The figures of one person's weekly digest: last week's net score beside the week before's, the
responses, the cases on their plate now, and the week's top themes.

Every figure comes from the same functions as the dashboards with the same scoping: an admin's
digest is business-wide (the admin dashboard), an owner's holds their own customers and cases
(their `/dashboard`). Only the cases' "now" counts are the admin overview's
(`surveys.services.dashboard`), narrowed to the owner's cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Case, CaseEvent, User
from surveys.services.dashboard import OPEN_STATUSES, overdue_condition
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scores import NetScore, Rate, negative_rate, net_score
from surveys.services.insights.themes import Theme, themes

TOP_THEMES = 5


@dataclass(frozen=True)
class CaseLoad:
    # Now: cases waiting on their owner (open or acknowledged), and those past a deadline.
    open: int
    overdue: int
    # In the week: cases whose customer said the fix had not worked.
    reopened: int


@dataclass(frozen=True)
class DigestFigures:
    week: InsightFilters
    score: NetScore
    score_before: NetScore
    responses: Rate  # negative responses out of all the week's responses
    responses_before: Rate
    cases: CaseLoad
    themes: list[Theme]

    @property
    def score_change(self) -> float | None:
        """Points up (positive) or down since the week before; None unless both have a score."""
        if self.score.score is None or self.score_before.score is None:
            return None
        return self.score.score - self.score_before.score


def digest_scope(user: User, week: InsightFilters) -> InsightFilters:
    """The week's filters for this person: everything for an admin, their own for an owner."""
    if user.is_admin:
        return week
    return InsightFilters(week.start, week.end, owner_id=user.id)


def case_load(session: Session, filters: InsightFilters, *, now: datetime) -> CaseLoad:
    """Open and overdue cases now, and cases reopened in the filters' range (the owner's own
    when the filters name an owner)."""
    owned = [Case.owner_id == filters.owner_id] if filters.owner_id is not None else []
    open_count, overdue = session.execute(
        select(
            func.count(Case.id).filter(Case.status.in_(OPEN_STATUSES)),
            func.count(Case.id).filter(overdue_condition(now)),
        ).where(*owned)
    ).one()
    reopened = session.scalar(
        select(func.count(func.distinct(CaseEvent.case_id)))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.kind == "reopened",
            CaseEvent.created_at >= filters.start,
            CaseEvent.created_at < filters.end,
            *owned,
        )
    )
    return CaseLoad(open=open_count, overdue=overdue, reopened=reopened or 0)


def digest_figures(
    session: Session,
    user: User,
    week: InsightFilters,
    week_before: InsightFilters,
    *,
    now: datetime,
) -> DigestFigures:
    """Everything one person's digest shows, for `week` compared with `week_before`."""
    scope, scope_before = digest_scope(user, week), digest_scope(user, week_before)
    return DigestFigures(
        week=scope,
        score=net_score(session, scope),
        score_before=net_score(session, scope_before),
        responses=negative_rate(session, scope),
        responses_before=negative_rate(session, scope_before),
        cases=case_load(session, scope, now=now),
        themes=themes(session, scope, top=TOP_THEMES),
    )
