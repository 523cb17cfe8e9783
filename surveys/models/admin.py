"""What admins configure: settings, routing rules, webhooks out, and the audit log."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow
from surveys.models.users import ApiKey, User


class Setting(Base):
    """One admin-editable setting; absent keys take their defaults from services.settings."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[object] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


ROUTING_FIELDS = ("category", "sku", "total_at_least", "email_domain", "property")


class RoutingRule(Base):
    """If a purchase matches, its cases go to this owner. The first matching rule wins."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int]
    field: Mapped[str] = mapped_column(sa.String(20))
    # The purchase property a "property" rule reads; None for every other field.
    property_key: Mapped[str | None] = mapped_column(sa.String(64))
    value: Mapped[str] = mapped_column(sa.String(500))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship()


class AuditEntry(Base):
    """An admin's change: who, what, before and after. Only ever inserted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id"))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target: Mapped[str] = mapped_column(sa.String(200))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor_user: Mapped[User | None] = relationship()
    actor_api_key: Mapped[ApiKey | None] = relationship()

    @property
    def actor_label(self) -> str:
        if self.actor_user is not None:
            return self.actor_user.name
        if self.actor_api_key is not None:
            return f"API key “{self.actor_api_key.name}”"
        return "Heart to Heart"


class WebhookEndpoint(Base):
    """A URL an admin registered to hear about responses and cases.

    `kind` "webhook" is a JSON webhook out (README's *Webhooks out*); "slack" and
    "teams" are chat channels posted to through the same outbox rows and delivery
    (README's *Slack and Microsoft Teams*), with their own events.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10), default="webhook", server_default="webhook")
    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list] = mapped_column(sa.JSON)
    # Chat channels are not signed (Slack and Teams check nothing); they have one all the same.
    secret: Mapped[str] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Chat channels only: what the admin calls it ("#support"), and whose cases it hears
    # about (None: everyone's).
    name: Mapped[str | None] = mapped_column(sa.String(80))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Why we paused it ourselves (Slack or Teams answered 404 or 410); None when an admin did.
    paused_reason: Mapped[str | None] = mapped_column(sa.String(1000))
    # The Monday of the last week whose summary was queued: one a week, never two.
    summary_week: Mapped[date | None] = mapped_column(sa.Date)

    owner: Mapped[User | None] = relationship()


class ReceivedWebhook(Base):
    """An incoming webhook already handled (Shopify webhook id, Stripe event id)."""

    __tablename__ = "received_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(20))
    external_id: Mapped[str] = mapped_column(sa.String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("source", "external_id"),)
