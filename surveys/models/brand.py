"""The shop's own voice: its logo, and the words an admin gave its customer emails."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base, UTCDateTime, utcnow


class BrandLogo(Base):
    """An uploaded logo, kept for good: emails already sent show it by its digest."""

    __tablename__ = "brand_logos"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the content: the logo's address, so a new logo is a new URL and the old
    # one can be cached for a year.
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    media_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailWording(Base):
    """An admin's words for one customer email in one language; absent means the defaults."""

    __tablename__ = "email_wordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Which email ("survey.purchase", "reply"): see surveys/services/email_words.py.
    email_key: Mapped[str] = mapped_column(sa.String(40))
    # A locale string as the customer carries it ("en", "es", "pt_BR").
    locale: Mapped[str] = mapped_column(sa.String(16))
    # {"subject": …, "preheader": …, "greeting": …, "paragraphs": …, "closing": …}
    words: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("email_key", "locale"),)
