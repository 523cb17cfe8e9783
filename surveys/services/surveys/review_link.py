"""The public review link: offered on the thank-you page to everyone who answered, happy or not.

Review platforms (Google, Trustpilot) forbid "review gating", asking only the customers likely
to praise: so the link never depends on an answer or a score, only on the admin having set one
(`public_review_url`). It leads through our own address, which counts who followed it (once per
survey) and sends them on, so the dashboard can say how many did.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from surveys.db import insert_row
from surveys.models import ReviewLinkClick, Survey
from surveys.services.settings import get_setting


def public_review_url(session: Session) -> str | None:
    """The review address an admin set, or None while there is none."""
    return get_setting(session, "public_review_url") or None


def record_review_click(session: Session, survey: Survey, *, now: datetime) -> bool:
    """Count that the survey's respondent followed the review link; False when they had already
    (a second click, or two at once, counts once)."""
    click = insert_row(
        session,
        ReviewLinkClick,
        {"survey_id": survey.id, "customer_id": survey.customer_id, "clicked_at": now},
        unless_exists="survey_id",
    )
    return click is not None
