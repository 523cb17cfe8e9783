"""Webhooks in that report purchases (Shopify, Stripe): each delivery acts once.

Providers deliver "at least once": a timeout on our side, a retry on theirs,
or two deliveries racing each other all bring the same webhook again. Its id
is claimed in `ReceivedWebhook` in the same transaction as the purchase it
records, so the unique (source, external_id) constraint decides which
delivery acts; the others find what the first one recorded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.models import Purchase, ReceivedWebhook
from surveys.services.purchase_cancellations import Cancellation, cancel_purchase
from surveys.services.purchases import (
    PurchaseInput,
    PurchaseResult,
    find_purchase,
    record_purchase,
)


def claim_webhook(session: Session, *, source: str, external_id: str, now: datetime) -> bool:
    """Note this webhook as handled; False when it was handled (or is being handled) already.

    One INSERT … ON CONFLICT DO NOTHING: under concurrency the database makes
    a second delivery wait for the first one's transaction and then skip, so
    neither fails and only the first goes on. Rolled back with the caller's
    transaction, so a delivery that fails later can be retried.
    """
    dialect_insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    claimed = session.scalar(
        dialect_insert(ReceivedWebhook)
        .values(source=source, external_id=external_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(ReceivedWebhook.id)
    )
    return claimed is not None


def record_webhook_purchase(
    session: Session,
    purchase_input: PurchaseInput,
    *,
    source: str,
    external_id: str | None,
    now: datetime,
) -> PurchaseResult | None:
    """Record the purchase a webhook reports, once per webhook id and once per order id.

    A webhook seen before creates nothing, even if its purchase has since been
    deleted, and returns that purchase (`created` False) or None when it is
    gone. Raises PurchaseRejected like record_purchase, changing nothing.
    """
    if external_id is not None and not claim_webhook(
        session, source=source, external_id=external_id, now=now
    ):
        return find_purchase(session, purchase_input.order_id)
    return record_purchase(session, purchase_input, now=now, source=source)


def cancel_webhook_purchase(
    session: Session,
    purchase: Purchase,
    *,
    source: str,
    external_id: str | None,
    reason: str,
    refunded: bool,
    now: datetime,
) -> Cancellation | None:
    """Stop asking about the purchase a webhook says was refunded or cancelled, once per
    webhook id; None for a webhook seen before (it changes nothing). The purchase itself is
    cancelled once too, however many webhooks say so (surveys.services.purchase_cancellations).
    """
    if external_id is not None and not claim_webhook(
        session, source=source, external_id=external_id, now=now
    ):
        return None
    return cancel_purchase(session, purchase, reason=reason, refunded=refunded, now=now)
