"""Dates that matter to a customer, and the gestures owners make for them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow
from surveys.models.users import User


class RememberedDate(Base):
    """A date worth remembering ("Emma's graduation", a birthday): day and month, year optional.

    `next_occurrence` is the next day it falls on that nobody has been reminded of yet
    (a yearly Feb 29 falls on Feb 28 in other years); None once a one-off date has passed.
    The reminder job seeks on it through its index, and moves it on in the transaction that
    queues the reminder, so each occurrence is reminded of once; `last_reminded_on` keeps
    the occurrence the reminder was about, so the inbox still shows it as coming up.
    """

    __tablename__ = "remembered_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(200))
    day: Mapped[int] = mapped_column(sa.SmallInteger)
    month: Mapped[int] = mapped_column(sa.SmallInteger)
    year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    yearly: Mapped[bool] = mapped_column(default=True)
    # Where it came from: "owner" (typed in), "suggestion" (confirmed from the customer's
    # words or a note), "first_order" (offered from the first purchase), "api".
    source: Mapped[str] = mapped_column(sa.String(16), default="owner")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The API key's name when an integration recorded it.
    recorded_via: Mapped[str | None] = mapped_column(sa.String(100))
    next_occurrence: Mapped[date | None] = mapped_column(sa.Date, index=True)
    last_reminded_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        sa.CheckConstraint("day BETWEEN 1 AND 31", name="day"),
    )


class RefusedDateSuggestion(Base):
    """A suggested date an owner said is "Not a date", so it is never suggested again."""

    __tablename__ = "refused_date_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    # What the suggestion came from: "preference", "note" or "first_order", and that row's id.
    source: Mapped[str] = mapped_column(sa.String(16))
    source_id: Mapped[int] = mapped_column(sa.Integer)
    day: Mapped[int] = mapped_column(sa.SmallInteger)
    month: Mapped[int] = mapped_column(sa.SmallInteger)
    refused_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("customer_id", "source", "source_id", "month", "day"),)


class Gesture(Base):
    """A pleasant surprise or a piece of service heroics, credited to the owner who made it.

    On a case it is service heroics (going further to put something right); otherwise a
    pleasant surprise. Its touch point counts it in the customer's ledger.
    """

    __tablename__ = "gestures"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    touchpoint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("touchpoints.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    cost: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship()

    __table_args__ = (
        # The allowance sums an owner's gestures of one month.
        sa.Index("ix_gestures_owner_id_created_at", "owner_id", "created_at"),
    )
