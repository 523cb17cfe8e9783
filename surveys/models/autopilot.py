"""Autopilot memberships: customers asked the relationship review again and again."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow
from surveys.models.customers import Customer


class AutopilotMembership(Base):
    """A customer in Autopilot: invited to the relationship review every configured interval.

    `next_invite_at` is when the worker next invites them; each invitation moves it one
    interval on, in the same transaction, so no member is ever invited twice for one turn.
    """

    __tablename__ = "autopilot_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), unique=True)
    # What the integration attached for the member's surveys (Delighted's `properties`).
    properties: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    next_invite_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
