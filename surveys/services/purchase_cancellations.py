"""Refunds and cancellations stop the ask.

Shopify (`orders/cancelled`, a full `refunds/create`), Stripe (a full `charge.refunded`,
`checkout.session.expired`) and `POST /api/v1/purchases/<order_id>/cancel` all end here. The
purchase's survey is cancelled if it was not sent yet (scheduled, or held for an open case),
with the reason, and so are its email and reminder still waiting in the outbox; a survey
already sent keeps working (the customer may still answer), but its reminder is not queued
(`surveys.services.surveys.reminders`). A survey already answered is kept as it is. The address
is not suppressed: the customer's next purchase is surveyed as usual.

A refund is also a negative touch on the customer's ledger, with its reason, once per
purchase. Everything happens once: a second cancellation (a provider's retry, the same order
cancelled and refunded) changes nothing and returns what is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys.models import OutboxMessage, Purchase, Survey
from surveys.models.outbox import OutboxStatus
from surveys.models.surveys import SurveyStatus
from surveys.services.customers.ledger import record_service_touch
from surveys.services.customers.unsubscribe import SURVEY_TEMPLATES
from surveys.services.purchases import PurchaseResult, find_purchase
from surveys.services.surveys.scheduling import lock_customer

MAX_REASON_LENGTH = 250
# Not sent yet, so cancelled: waiting for its time, or held while a case is open.
UNSENT_STATUSES = (SurveyStatus.SCHEDULED, SurveyStatus.HELD)


class PurchaseNotFound(LookupError):
    """No purchase has this order id (or payment); nothing was changed."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"No purchase has the order id {order_id!r}.")
        self.order_id = order_id


@dataclass(frozen=True)
class Cancellation:
    """What cancelling did: the purchase with its survey, and whether anything changed."""

    result: PurchaseResult
    changed: bool


def purchase_with_order_id(session: Session, order_id: str) -> Purchase:
    """The purchase of this order id, or PurchaseNotFound."""
    purchase = session.scalar(select(Purchase).where(Purchase.order_id == order_id))
    if purchase is None:
        raise PurchaseNotFound(order_id)
    return purchase


def purchase_paid_by(session: Session, payment_reference: str) -> Purchase | None:
    """The purchase a provider's payment paid for (Stripe's PaymentIntent), or None."""
    return session.scalar(
        select(Purchase)
        .where(Purchase.payment_reference == payment_reference)
        .order_by(Purchase.id)
        .limit(1)
    )


def cancel_purchase(
    session: Session, purchase: Purchase, *, reason: str, refunded: bool, now: datetime
) -> Cancellation:
    """Stop asking about this purchase (see the module); a refund is a negative touch too.

    `reason` is a sentence fragment ("the order was refunded in full in Shopify"), kept as
    the survey's status reason and on the touch.
    """
    # As every survey decision: one at a time per customer, so a survey being scheduled or
    # released from its hold right now is seen (and cancelled) after it.
    lock_customer(session, purchase.customer)
    session.refresh(purchase)
    reason = reason[:MAX_REASON_LENGTH]
    changed = False
    if refunded and purchase.refunded_at is None:
        purchase.refunded_at = now
        record_service_touch(
            session, customer=purchase.customer, kind="refund", now=now, note=reason
        )
        changed = True
    if purchase.cancelled_at is None:
        purchase.cancelled_at = now
        purchase.cancellation_reason = reason
        _stop_asking(session, purchase, reason=reason)
        changed = True
    session.flush()
    found = find_purchase(session, purchase.order_id)
    assert found is not None
    return Cancellation(result=found, changed=changed)


def _stop_asking(session: Session, purchase: Purchase, *, reason: str) -> None:
    """Cancel the purchase's surveys not yet sent, and their emails and reminders waiting in
    the outbox (as an unsubscribe does for all of a customer's, `cancel_pending_surveys`)."""
    session.flush()
    survey_ids = select(Survey.id).where(Survey.purchase_id == purchase.id)
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.survey_id.in_(survey_ids),
            OutboxMessage.template.in_(SURVEY_TEMPLATES),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED, last_error=reason),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Survey)
        .where(Survey.purchase_id == purchase.id, Survey.status.in_(UNSENT_STATUSES))
        .values(status=SurveyStatus.CANCELLED, status_reason=reason),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()
