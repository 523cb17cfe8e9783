"""What the insight pages read instead of every row: each written answer's themes, and day
(and month) tallies of the figures, refreshed by the worker."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base, UTCDateTime


class AnswerTheme(Base):
    """One theme a written answer mentions: its key (stems joined by spaces) and the words as
    the customer wrote them. Written in the same transaction as the answer."""

    __tablename__ = "answer_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("answers.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("responses.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    spelling: Mapped[str] = mapped_column(sa.String(300))

    __table_args__ = (
        # The feed's theme filter, and a response's themes, each read by one index.
        sa.Index("ix_answer_themes_key_response_id", "key", "response_id"),
        sa.Index("ix_answer_themes_response_id", "response_id"),
    )


class DayFigures:
    """The figures of one UTC day: responses and their answers by submitted day, surveys by
    sent day, survey mail events by their day, touch points by theirs, cases by opened day."""

    responses: Mapped[int] = mapped_column(default=0)
    negative: Mapped[int] = mapped_column(default=0)
    promoters: Mapped[int] = mapped_column(default=0)
    passives: Mapped[int] = mapped_column(default=0)
    detractors: Mapped[int] = mapped_column(default=0)
    expectations_exceeding: Mapped[int] = mapped_column(default=0)
    expectations_meeting: Mapped[int] = mapped_column(default=0)
    expectations_short: Mapped[int] = mapped_column(default=0)
    time_money_yes: Mapped[int] = mapped_column(default=0)
    time_money_somewhat: Mapped[int] = mapped_column(default=0)
    time_money_no: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    opened: Mapped[int] = mapped_column(default=0)
    clicked: Mapped[int] = mapped_column(default=0)
    unsubscribes: Mapped[int] = mapped_column(default=0)
    bounces: Mapped[int] = mapped_column(default=0)
    positive_touches: Mapped[int] = mapped_column(default=0)
    negative_touches: Mapped[int] = mapped_column(default=0)
    # Cases by the day they opened: how many, and how many were escalated, had their fix
    # confirmed, were reopened, were ever resolved (services/insights/cases.py).
    cases_opened: Mapped[int] = mapped_column(default=0)
    cases_escalated: Mapped[int] = mapped_column(default=0)
    cases_fix_confirmed: Mapped[int] = mapped_column(default=0)
    cases_reopened: Mapped[int] = mapped_column(default=0)
    cases_ever_resolved: Mapped[int] = mapped_column(default=0)


class InsightDay(DayFigures, Base):
    """A day's figures across the business."""

    __tablename__ = "insight_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)


class InsightOwnerDay(DayFigures, Base):
    """A day's figures of one owner's customers and cases, as they were when counted: the
    customers of `insight_owner_customers` and the cases of `insight_owner_cases`."""

    __tablename__ = "insight_owner_days"

    owner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)


class InsightOwnerCustomer(Base):
    """A customer an owner looked after when their day tallies were counted (the rule of
    scope.owner_customers, then). Plain ids, no foreign keys: a customer gone since is a
    difference to correct for, not a row to lose."""

    __tablename__ = "insight_owner_customers"

    owner_id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(primary_key=True)


class InsightOwnerCase(Base):
    """Who owned a case when the day tallies were counted."""

    __tablename__ = "insight_owner_cases"

    case_id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(index=True)


class OwnerThemeTally(Base):
    """Responses of an owner's customers (as counted, see InsightOwnerCustomer) mentioning a
    theme in one whole month; `spelling` as in ThemeTally."""

    __tablename__ = "owner_theme_tallies"

    owner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    spelling: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    responses: Mapped[int] = mapped_column(default=0)
    negative: Mapped[int] = mapped_column(default=0)


class ThemeTally(Base):
    """Responses mentioning a theme in one day or month (`grain`). The row with an empty
    `spelling` counts the key's responses and the negative ones among them; a row with a
    spelling counts the answers that wrote it so (the label is the most written)."""

    __tablename__ = "theme_tallies"

    grain: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    start: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    spelling: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    responses: Mapped[int] = mapped_column(default=0)
    negative: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.CheckConstraint("grain in ('day', 'month')", name="grain"),
        # The period before's count of the few themes shown, read by key.
        sa.Index("ix_theme_tallies_key_grain_start", "key", "grain", "start"),
    )


class InsightRollup(Base):
    """The one row saying how far the day tallies reach: every day before `complete_before`
    is counted (days after it are read from the rows themselves)."""

    __tablename__ = "insight_rollups"

    id: Mapped[int] = mapped_column(primary_key=True)
    complete_before: Mapped[date | None] = mapped_column(sa.Date)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
