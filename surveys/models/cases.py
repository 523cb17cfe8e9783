"""Cases: a negative answer, owned by one person until the customer says it is fixed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow
from surveys.models.customers import Customer
from surveys.models.purchases import Purchase
from surveys.models.surveys import Response
from surveys.models.users import ApiKey, User


class CaseStatus(StrEnum):
    """Stored as these strings; a member compares equal to its string.

    open: waiting for its owner to acknowledge; acknowledged: the owner is on it;
    resolved: the owner says it is fixed and the fix-check asks the customer; closed: done.
    """

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"


CASE_STATUSES = tuple(CaseStatus)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="open")
    # The negative response that opened the case; unique, so one response opens one case.
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("responses.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    purchase_id: Mapped[int | None] = mapped_column(sa.ForeignKey("purchases.id"))
    # None while the case waits for an owner: nobody could own it when it opened (no
    # active admin, no default owner); it is routed as soon as someone can.
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Why this owner: "account owner", "routing rule 2 (category = hardware)", "default owner";
    # while unowned, why nobody could take it.
    routed_by: Mapped[str] = mapped_column(sa.String(300))
    # The owner's deadlines run from the moment the case has an owner: None until then.
    acknowledge_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(sa.String(20))
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    # Each breach is escalated once; the stamps make the worker idempotent.
    acknowledge_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reassign_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship()
    customer: Mapped[Customer] = relationship()
    purchase: Mapped[Purchase | None] = relationship()
    response: Mapped[Response] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    @property
    def waiting_for_owner(self) -> bool:
        """Nobody owns the case yet: it opened when nobody could (no admin, no default owner)."""
        return self.owner_id is None

    @property
    def escalated(self) -> bool:
        return bool(self.acknowledge_escalated_at or self.resolve_escalated_at)

    __table_args__ = (
        sa.CheckConstraint(
            "status in ('open', 'acknowledged', 'resolved', 'closed')", name="status"
        ),
        sa.Index("ix_cases_owner_id_status", "owner_id", "status"),
        # `cases?status=` newest first, and its cursor `(created_at, id) < (x, y)`.
        sa.Index("ix_cases_status_created_at_id", "status", "created_at", "id"),
        # The case figures of a range (opened in it).
        sa.Index("ix_cases_created_at", "created_at"),
    )


class CaseEvent(Base):
    """One line of a case's timeline: who did what, and when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id"))
    body: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")
    actor_user: Mapped[User | None] = relationship()
    actor_api_key: Mapped[ApiKey | None] = relationship()

    # "Has this case an escalation / a reopen / a confirmed fix?", read from the index alone.
    __table_args__ = (sa.Index("ix_case_events_case_id_kind", "case_id", "kind"),)

    @property
    def actor_label(self) -> str:
        if self.actor_user is not None:
            return self.actor_user.name
        if self.actor_api_key is not None:
            return f"API key “{self.actor_api_key.name}”"
        return "Heart to Heart"


class CaseAttachment(Base):
    """A file that came with an email on a case (`customer_replied` or `unverified_message`).

    Kept in the database, so a backup holds it and every web process can serve it;
    the content is loaded only when someone downloads it. A file over the message's
    limit is listed on its event but has no row.
    """

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    case_event_id: Mapped[int] = mapped_column(sa.ForeignKey("case_events.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int] = mapped_column(sa.Integer)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
