"""People who log in (admins, owners) and the API keys integrators use."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base, UTCDateTime, utcnow

ROLES = ("admin", "owner")
# What an API key may do: `read` calls only GET; `write` (the default) may also change things.
API_KEY_SCOPES = ("read", "write")


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(10))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of every session's identity (get_id): bumping it ends all of this person's
    # sessions at their next request (logout, a new password, deactivation).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The weekly digest email (surveys.services.digests): on unless the person turns it off.
    weekly_digest: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # An IANA name; None follows the business's time zone setting.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    # A shipped catalog name (`es`, `pt_BR`); None follows the shop's default language.
    locale: Mapped[str | None] = mapped_column(sa.String(35))
    # What they may spend on gestures each calendar month without asking (set by an admin);
    # None: no allowance set, so only gestures that cost nothing.
    monthly_gesture_allowance: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))

    __table_args__ = (sa.CheckConstraint("role in ('admin', 'owner')", name="role"),)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What the session stores (Flask-Login): the id and the session version, "12:3"."""
        return f"{self.id}:{self.session_version}"


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # Keys are 256 random bits, so one SHA-256 is enough to make a stolen
    # database useless while keeping the lookup a single indexed query.
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    scope: Mapped[str] = mapped_column(sa.String(5), default="write", server_default="write")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Updated at most about once a minute (services.users.api_keys.note_use), not per request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def can_write(self) -> bool:
        return self.scope == "write"


class WeeklyDigest(Base):
    """One weekly digest queued for one person: at most one per person and local week, so
    concurrent workers and repeated passes cannot send it twice."""

    __tablename__ = "weekly_digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # The Monday, in the person's time zone, of the week the digest was sent in (it tells
    # about the week before).
    week_start: Mapped[date] = mapped_column(sa.Date)
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("user_id", "week_start"),)
