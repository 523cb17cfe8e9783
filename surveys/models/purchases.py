"""Purchases: the moment a heart to heart starts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, UTCDateTime, utcnow
from surveys.models.customers import Customer
from surveys.wording import purchase_summary


class Purchase(Base):
    __tablename__ = "purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique, so a repeated or concurrent POST of the same order creates nothing.
    order_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    total: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    source: Mapped[str] = mapped_column(sa.String(20), default="api")
    # What the sender told about the purchase beyond our fields ({"plan": "gold"}), strings only
    # (surveys.validation.properties states the limits); shown to owners, used by routing rules,
    # dashboard filters and the responses export.
    properties: Mapped[dict[str, str]] = mapped_column(
        sa.JSON, default=dict, server_default=sa.text("'{}'")
    )
    # Stripe's PaymentIntent (`pi_…`) of the checkout that paid it: a refund names the payment,
    # not the checkout, so this is how `charge.refunded` finds its purchase.
    payment_reference: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    # Refunded or cancelled (the shop's webhook, or the API's cancel): its survey and reminder
    # are not sent. Set once; a repeated cancellation changes nothing.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(sa.String(300))
    # When a full refund was reported: recorded once as a negative touch.
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    items: Mapped[list[PurchaseItem]] = relationship(
        back_populates="purchase", order_by="PurchaseItem.id", cascade="all, delete-orphan"
    )

    @property
    def item_names(self) -> list[str]:
        """What was bought, each item by its name (else its SKU), in order."""
        return [item.name or item.sku for item in self.items if item.name or item.sku]

    @property
    def summary(self) -> str:
        """What was bought, in a few words in the reader's language ("Keyboard and 2 more")."""
        return purchase_summary(self)


class PurchaseItem(Base):
    __tablename__ = "purchase_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(sa.ForeignKey("purchases.id"), index=True)
    sku: Mapped[str | None] = mapped_column(sa.String(128))
    name: Mapped[str | None] = mapped_column(sa.String(300))
    category: Mapped[str | None] = mapped_column(sa.String(128))
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))

    purchase: Mapped[Purchase] = relationship(back_populates="items")
