"""Customers, what we remember about them, and every contact we have with them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow
from surveys.models.users import User

SHORT_OF_AIM_ONLY = "negative_touches > 0 AND positive_touches < 10 * negative_touches"
SHORT_OF_AIM = f"erased_at IS NULL AND {SHORT_OF_AIM_ONLY}"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    external_id: Mapped[str | None] = mapped_column(sa.String(128))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    # BCP 47 (`es-MX`), normalised; None reads the shop's default language. Which shipped
    # catalog it reads is decided when a page or email is made (surveys.languages).
    locale: Mapped[str | None] = mapped_column(sa.String(35))
    # The account owner: when set, every case of this customer goes to them.
    # Indexed: an owner's figures start from the customers they look after.
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Set when the address unsubscribed, bounced or complained; never surveyed again.
    suppressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suppression_reason: Mapped[str | None] = mapped_column(sa.String(200))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The touch-point tally, kept up to date in the same transaction as each touch point
    # (surveys.services.customers.touchpoints.record_touchpoint) so that the neglected list
    # and the profile never total a customer's whole ledger.
    positive_touches: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    negative_touches: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    last_positive_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship()

    # The neglected customers' exact count, in its two parts (services/insights/touches.py):
    # short of ten positive touches per negative one, or else quiet for too long. 10 is
    # touchpoints.AIM, written out because an index's condition is fixed.
    __table_args__ = (
        sa.Index(
            "ix_customers_short_of_aim",
            "id",
            postgresql_where=sa.text(SHORT_OF_AIM),
            sqlite_where=sa.text(SHORT_OF_AIM),
        ),
        sa.Index(
            "ix_customers_quiet_since",
            "last_positive_touch_at",
            "created_at",
            postgresql_where=sa.text(f"erased_at IS NULL AND NOT ({SHORT_OF_AIM_ONLY})"),
            sqlite_where=sa.text(f"erased_at IS NULL AND NOT ({SHORT_OF_AIM_ONLY})"),
        ),
    )

    @property
    def display_name(self) -> str:
        if self.erased_at is not None:
            return "erased customer"  # surveys.services.customers.erasure.ERASED_NAME
        return self.name or self.email


class CustomerNote(Base):
    """A personal detail an owner wants remembered ("daughter graduates in June")."""

    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class CustomerPreference(Base):
    """What the customer told us about themselves, in their own words."""

    __tablename__ = "customer_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    response_id: Mapped[int | None] = mapped_column(sa.ForeignKey("responses.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Touchpoint(Base):
    """One contact with a customer: positive, negative (aim: ten to one) or neutral (we asked,
    we gave nothing). Which of ours is which: surveys.services.customers.ledger."""

    __tablename__ = "touchpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    polarity: Mapped[str] = mapped_column(sa.String(8))
    note: Mapped[str | None] = mapped_column(sa.Text)
    # Indexed: the insight figures read the touches of a range (the part-days their tallies
    # leave, or a whole range for one owner).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    survey_id: Mapped[int | None] = mapped_column(sa.ForeignKey("surveys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("polarity in ('positive', 'negative', 'neutral')", name="polarity"),
    )


class Goodbye(Base):
    """How a relationship ended: the customer unsubscribed (and perhaps said why), or their
    owner ended it with a personal letter. At most one open goodbye per customer: coming back
    (resubscribing) marks it withdrawn, and a later goodbye is a new row."""

    __tablename__ = "goodbyes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    # "unsubscribed" (the customer's own link) or "ended" (their owner's letter).
    kind: Mapped[str] = mapped_column(sa.String(16))
    # What the customer chose and wrote after unsubscribing, if they said why.
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    words: Mapped[str | None] = mapped_column(sa.Text)
    said_why_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The owner's letter, for a relationship they ended.
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    letter: Mapped[str | None] = mapped_column(sa.Text)
    touchpoint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("touchpoints.id"))
    # The owner's notice in the outbox; no foreign key, as delivered rows are removed in
    # time (a notice no longer there has long been sent).
    notice_message_id: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    ended_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint("kind in ('unsubscribed', 'ended')", name="kind"),)
