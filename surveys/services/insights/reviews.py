"""How many respondents followed the public review link of the thank-you page in a range
(counted once per survey; see surveys.services.surveys.review_link)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import ReviewLinkClick, Survey
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import survey_filters


def review_link_clicks(session: Session, filters: InsightFilters) -> int:
    """Clicks on the review link in the range, of the surveys the filters keep."""
    return session.scalar(
        select(func.count(ReviewLinkClick.id))
        .join(Survey, Survey.id == ReviewLinkClick.survey_id)
        .where(
            ReviewLinkClick.clicked_at >= filters.start,
            ReviewLinkClick.clicked_at < filters.end,
            *survey_filters(filters),
        )
    )
