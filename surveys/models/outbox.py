"""The outbox: every email and outgoing webhook, written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base, UTCDateTime, utcnow


# pending: waiting for next_attempt_at; sending: claimed by a worker until claimed_until;
# sent; failed: refused for good (last_error says why); cancelled: by an admin or because
# the reason to send it went away (the survey was answered, the address suppressed).
class OutboxStatus(StrEnum):
    """Stored as these strings; a member compares equal to its string."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


OUTBOX_STATUSES = tuple(OutboxStatus)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10), default="email")
    # Which email (survey, reminder, owner_new_case, reply, …) or webhook event.
    template: Mapped[str] = mapped_column(sa.String(40))
    to_email: Mapped[str | None] = mapped_column(sa.String(254))
    to_name: Mapped[str | None] = mapped_column(sa.String(200))
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    from_name: Mapped[str | None] = mapped_column(sa.String(200))
    # Ids and values the template needs; rendered when delivered, so personal
    # links are minted then and never stored in plain text.
    context: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    survey_id: Mapped[int | None] = mapped_column(sa.ForeignKey("surveys.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    # For webhooks out: where it goes, and the JSON body as it was when the event
    # happened (a snapshot, unlike an email, which is rendered when it is sent).
    webhook_endpoint_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id"), index=True
    )
    payload: Mapped[dict | None] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which worker holds the claim: a worker only sends what it still holds.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def retrying(self) -> bool:
        """Waiting to be sent again after a try that failed."""
        return self.status == OutboxStatus.PENDING and self.attempts > 0

    @property
    def shown_status(self) -> str:
        """The status as the admin pages show it: "retrying" apart from a first "pending"."""
        return "retrying" if self.retrying else self.status

    __table_args__ = (
        sa.Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        # Retention finds the sent rows past their time here (surveys/outbox/retention.py).
        sa.Index("ix_outbox_messages_status_sent_at", "status", "sent_at"),
    )
