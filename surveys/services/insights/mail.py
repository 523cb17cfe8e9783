"""How the survey emails did: sent, answered, opened, clicked, and the unsubscribes and bounces
SendGrid reported, for the surveys sent in a range.

Open and click rates count surveys, not events: SendGrid's webhook stamps a survey's first open
and click (`Survey.opened_at`, `clicked_at`, see services/email_events.py), so a customer who
opens five times counts once. Unsubscribes and bounces count the `email_events` rows of the range
that carried a survey (mail to owners is not a survey's).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import EmailEvent, Survey
from surveys.services.insights import tallies
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import share, survey_filters

UNSUBSCRIBE_EVENTS = ("unsubscribe", "group_unsubscribe")
BOUNCE_EVENTS = ("bounce",)


@dataclass(frozen=True)
class MailFigures:
    sent: int = 0
    answered: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribes: int = 0
    bounces: int = 0

    @property
    def response_rate(self) -> float | None:
        return share(self.answered, self.sent)

    @property
    def open_rate(self) -> float | None:
        return share(self.opened, self.sent)

    @property
    def click_rate(self) -> float | None:
        return share(self.clicked, self.sent)


MAIL_COLUMNS = ("sent", "answered", "opened", "clicked", "unsubscribes", "bounces")


def mail_figures(session: Session, filters: InsightFilters) -> MailFigures:
    """Surveys sent in the range and what became of them; the range's unsubscribes and bounces
    (from the day tallies where they reach, see tallies.py)."""
    counted = tallies.tallied(
        session, filters, MAIL_COLUMNS, lambda part: _mail_counts(session, part)
    )
    return MailFigures(*counted)


def _mail_counts(session: Session, filters: InsightFilters) -> tuple[int, ...]:
    kept = survey_filters(filters)
    sent, answered, opened, clicked = session.execute(
        select(
            func.count(Survey.id),
            func.count(Survey.id).filter(Survey.answered_at.is_not(None)),
            func.count(Survey.id).filter(Survey.opened_at.is_not(None)),
            func.count(Survey.id).filter(Survey.clicked_at.is_not(None)),
        ).where(Survey.sent_at >= filters.start, Survey.sent_at < filters.end, *kept)
    ).one()
    events = (
        select(
            func.count(EmailEvent.id).filter(EmailEvent.event.in_(UNSUBSCRIBE_EVENTS)),
            func.count(EmailEvent.id).filter(EmailEvent.event.in_(BOUNCE_EVENTS)),
        )
        .join(Survey, Survey.id == EmailEvent.survey_id)
        .where(
            EmailEvent.occurred_at >= filters.start,
            EmailEvent.occurred_at < filters.end,
            EmailEvent.event.in_(UNSUBSCRIBE_EVENTS + BOUNCE_EVENTS),
            *kept,
        )
    )
    unsubscribes, bounces = session.execute(events).one()
    return sent, answered, opened, clicked, unsubscribes, bounces
