"""What customers answered: the 0–10 net score and its three shares, the shares of each choice of
a choice question (expectations, time and money), the negative-response rate, and their trends.

Each figure is one aggregate query over the range's responses (counts with FILTER), grouped by
week or month for a trend; no row is read into Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Answer, Question, Response
from surveys.services.insights import tallies
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scope import bucket, grain, response_filters, share

RECOMMEND_KEY = "recommend"
PROMOTER_VALUES = ("9", "10")
PASSIVE_VALUES = ("7", "8")
DETRACTOR_VALUES = tuple(str(n) for n in range(7))
# The choices of the seeded sets, in the order the charts stack them.
CHOICES = {
    "expectations": ("exceeding", "meeting", "short"),
    "time_money": ("yes", "somewhat", "no"),
}


@dataclass(frozen=True)
class NetScore:
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """Promoters' share minus detractors' share, in points (-100 to 100)."""
        if not self.answers:
            return None
        return 100 * (self.promoters - self.detractors) / self.answers

    @property
    def shares(self) -> dict[str, float | None]:
        return {
            "promoters": share(self.promoters, self.answers),
            "passives": share(self.passives, self.answers),
            "detractors": share(self.detractors, self.answers),
        }


@dataclass(frozen=True)
class Rate:
    part: int = 0
    whole: int = 0

    @property
    def value(self) -> float | None:
        return share(self.part, self.whole)


def _answers_to(key: str, filters: InsightFilters):
    return (
        select()
        .select_from(Answer)
        .join(Question, Question.id == Answer.question_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Question.key == key, *response_filters(filters))
    )


def _net_columns():
    return (
        func.count(Answer.id).filter(Answer.value.in_(PROMOTER_VALUES)),
        func.count(Answer.id).filter(Answer.value.in_(PASSIVE_VALUES)),
        func.count(Answer.id).filter(Answer.value.in_(DETRACTOR_VALUES)),
    )


NET_COLUMNS = ("promoters", "passives", "detractors")
# The day tallies' columns of each choice question (services/insights/tallies.py).
CHOICE_COLUMNS = {
    "expectations": ("expectations_exceeding", "expectations_meeting", "expectations_short"),
    "time_money": ("time_money_yes", "time_money_somewhat", "time_money_no"),
}


def net_score(session: Session, filters: InsightFilters) -> NetScore:
    """The range's 0–10 answers: promoters 9–10, passives 7–8, detractors 0–6."""

    def counted(part: InsightFilters) -> tuple:
        return tuple(
            session.execute(_answers_to(RECOMMEND_KEY, part).add_columns(*_net_columns())).one()
        )

    return NetScore(*tallies.tallied(session, filters, NET_COLUMNS, counted))


def _trend(session: Session, query, step: str, *columns) -> list[tuple[str, tuple]]:
    period = bucket(session, Response.submitted_at, step).label("period")
    rows = session.execute(
        query.add_columns(period, *columns).group_by(period).order_by(period)
    ).all()
    return [(row[0], tuple(row[1:])) for row in rows]


def net_score_trend(session: Session, filters: InsightFilters) -> list[tuple[str, NetScore]]:
    """The net score of each week or month of the range that has answers, oldest first."""
    step = grain(filters)

    def counted(part: InsightFilters) -> list:
        return _trend(session, _answers_to(RECOMMEND_KEY, part), step, *_net_columns())

    trend = tallies.tallied_trend(session, filters, NET_COLUMNS, step, counted)
    return [(period, NetScore(*values)) for period, values in trend]


def _choice_columns(key: str):
    return tuple(func.count(Answer.id).filter(Answer.value == choice) for choice in CHOICES[key])


def choice_counts(session: Session, filters: InsightFilters, key: str) -> dict[str, int]:
    """How many answered each choice of question `key` (every known choice, zero if none)."""

    def counted(part: InsightFilters) -> tuple:
        return tuple(
            session.execute(_answers_to(key, part).add_columns(*_choice_columns(key))).one()
        )

    row = tallies.tallied(session, filters, CHOICE_COLUMNS[key], counted)
    return dict(zip(CHOICES[key], row, strict=True))


def choice_trend(
    session: Session, filters: InsightFilters, key: str
) -> list[tuple[str, dict[str, int]]]:
    """`choice_counts` for each week or month of the range that has answers."""
    step = grain(filters)

    def counted(part: InsightFilters) -> list:
        return _trend(session, _answers_to(key, part), step, *_choice_columns(key))

    trend = tallies.tallied_trend(session, filters, CHOICE_COLUMNS[key], step, counted)
    return [(period, dict(zip(CHOICES[key], values, strict=True))) for period, values in trend]


def _negative_columns():
    return (func.count(Response.id).filter(Response.negative), func.count(Response.id))


def negative_rate(session: Session, filters: InsightFilters) -> Rate:
    """Negative responses out of all the range's responses."""

    def counted(part: InsightFilters) -> tuple:
        return tuple(
            session.execute(select(*_negative_columns()).where(*response_filters(part))).one()
        )

    return Rate(*tallies.tallied(session, filters, ("negative", "responses"), counted))


def negative_trend(session: Session, filters: InsightFilters) -> list[tuple[str, Rate]]:
    step = grain(filters)

    def counted(part: InsightFilters) -> list:
        query = select().select_from(Response).where(*response_filters(part))
        return _trend(session, query, step, *_negative_columns())

    trend = tallies.tallied_trend(session, filters, ("negative", "responses"), step, counted)
    return [(period, Rate(*values)) for period, values in trend]
