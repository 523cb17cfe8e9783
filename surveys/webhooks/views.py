"""Webhook endpoints: SendGrid's signed Event Webhook, Shopify orders and Stripe
checkouts, with their cancellations and refunds (README's *Shopify and Stripe*), and emails
back from Inbound Parse (`inbound`).

Machines call these, so they answer problem documents, carry no session and
need no CSRF token: each request proves itself with its signature instead.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, request
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from surveys import clock
from surveys.api.domain_errors import answer_domain_errors
from surveys.api.json_body import parse_json_document
from surveys.api.schemas import purchase_json, validation_problem
from surveys.db import db
from surveys.errors import api_problem_response, problem_response
from surveys.i18n import read_by_integration
from surveys.models import Purchase
from surveys.outbox.outcomes import record_sendgrid_events
from surveys.services.purchase_cancellations import (
    PurchaseNotFound,
    purchase_paid_by,
    purchase_with_order_id,
)
from surveys.services.purchases import PurchaseInput
from surveys.services.received_webhooks import cancel_webhook_purchase, record_webhook_purchase
from surveys.webhooks import inbound, sendgrid, shopify, stripe
from surveys.webhooks.payloads import Ignored, InvalidPayload, InvalidSignature

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
bp.before_request(read_by_integration)
log = logging.getLogger(__name__)
bp.add_url_rule("/inbound", view_func=inbound.receive_inbound_email, methods=["POST"])


@bp.post("/sendgrid")
def receive_sendgrid_events():
    """SendGrid's Event Webhook: verify its signature, then record each event once.

    A message an event is about reached SendGrid: if it was waiting for a retry
    (its request timed out), it is marked sent instead of going a second time.
    """
    # Without a key we could not tell SendGrid from anybody, so the endpoint
    # does not exist (404, like the other webhooks without their secret).
    key_text = current_app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not key_text:
        abort(404)
    raw = request.get_data(cache=False)
    sendgrid.verify_signature(
        raw,
        signature=request.headers.get(EventWebhookHeader.SIGNATURE),
        timestamp=request.headers.get(EventWebhookHeader.TIMESTAMP),
        public_key=sendgrid.public_key(key_text),
        now=clock.now(),
    )
    events = sendgrid.events_from_batch(parse_json_document(raw))
    session = db.session()
    result = record_sendgrid_events(session, events, now=clock.now())
    session.commit()
    return {"received": result.received, "recorded": result.recorded}, 200


# --- purchases: Shopify and Stripe ----------------------------------------------------------

# A Shopify order with hundreds of lines can pass 1 MiB; refusing it would lose the order.
SHOPIFY_MAX_BODY = 8 * 1024 * 1024


@bp.post("/shopify")
def receive_shopify_order():
    """Shopify's order webhooks: verify them, then record a paid order's purchase once, or stop
    asking about a cancelled or fully refunded one."""
    secrets = _configured_secrets("SHOPIFY_WEBHOOK_SECRET")
    request.max_content_length = SHOPIFY_MAX_BODY
    raw = request.get_data(cache=False)
    shopify.verify_signature(raw, request.headers.get("X-Shopify-Hmac-Sha256"), secrets)
    topic = request.headers.get("X-Shopify-Topic")
    if topic not in shopify.TOPICS:
        raise Ignored(
            f"the {topic or 'unnamed'} topic is not recorded; "
            f"subscribe this address to {', '.join(shopify.TOPICS)} only"
        )
    data = parse_json_document(raw)
    external_id = shopify.webhook_id(request.headers.get(shopify.WEBHOOK_ID_HEADER))
    if topic == shopify.ORDERS_CANCELLED:
        order_id, why = shopify.order_id_of_cancelled(data)
        purchase = _known_purchase(order_id)
        reason = f"the order was cancelled in Shopify ({why or 'no reason given'})"
        return _cancel(purchase, "shopify", external_id, reason=reason, refunded=False)
    if topic == shopify.REFUNDS_CREATE:
        refund = shopify.refund_from(data)
        purchase = _known_purchase(refund.order_id)
        if not refund.is_full(purchase.total, [item.quantity for item in purchase.items]):
            raise Ignored(f"order {refund.order_id} is refunded only in part: nothing changes")
        reason = "the order was refunded in full in Shopify" + (
            f" ({refund.note})" if refund.note else ""
        )
        return _cancel(purchase, "shopify", external_id, reason=reason, refunded=True)
    purchase_input = shopify.purchase_from_order(data)
    return _record_purchase(purchase_input, source="shopify", external_id=external_id)


@bp.post("/stripe")
def receive_stripe_event():
    """Stripe's events: verify them, then record each paid session's purchase once, or stop
    asking about a fully refunded (or expired) one."""
    secrets = _configured_secrets("STRIPE_WEBHOOK_SECRET")
    raw = request.get_data(cache=False)
    stripe.verify_signature(raw, request.headers.get("Stripe-Signature"), secrets, now=clock.now())
    event, event_object = stripe.recorded_event(parse_json_document(raw))
    if event.type == stripe.CHARGE_REFUNDED:
        charge = stripe.refunded_charge(event_object)
        purchase = _purchase_of_charge(charge)
        reason = "the order was refunded in full in Stripe"
        return _cancel(purchase, "stripe", event.id, reason=reason, refunded=True)
    if event.type == stripe.EXPIRED_CHECKOUT:
        purchase = _known_purchase(stripe.order_id_of_expired(event_object))
        reason = "the Stripe checkout session expired"
        return _cancel(purchase, "stripe", event.id, reason=reason, refunded=False)
    purchase_input = stripe.purchase_from_session(event_object)
    return _record_purchase(purchase_input, source="stripe", external_id=event.id)


def _known_purchase(order_id: str) -> Purchase:
    """The purchase of this order id; Ignored (200) for one we never recorded."""
    try:
        return purchase_with_order_id(db.session(), order_id)
    except PurchaseNotFound:
        # Not ours to survey (another channel's order, or one recorded before we were set up):
        # a retry would never change that.
        raise Ignored(f"no purchase has the order id {order_id}") from None


def _purchase_of_charge(charge: stripe.StripeCharge) -> Purchase:
    """The purchase a refunded charge paid for: by the order id on the payment, else by the
    payment itself; Ignored when we recorded neither."""
    session = db.session()
    order_id = charge.metadata.order_id if charge.metadata else None
    if order_id is not None:
        try:
            return purchase_with_order_id(session, order_id)
        except PurchaseNotFound:
            pass  # that order id never reached us; the payment itself may have
    purchase = None
    if charge.payment_intent is not None:
        purchase = purchase_paid_by(session, charge.payment_intent)
    if purchase is None:
        raise Ignored(f"no purchase was paid by charge {charge.id}")
    return purchase


def _cancel(
    purchase: Purchase, source: str, external_id: str | None, *, reason: str, refunded: bool
):
    """Stop asking about the purchase and answer with its receipt (200 either way)."""
    session = db.session()
    cancellation = cancel_webhook_purchase(
        session,
        purchase,
        source=source,
        external_id=external_id,
        reason=reason,
        refunded=refunded,
        now=clock.now(),
    )
    session.commit()
    if cancellation is None:
        return {"ignored": "this webhook was received before"}, 200
    return purchase_json(cancellation.result), 200


def _configured_secrets(name: str) -> list[str]:
    """The endpoint's secrets (comma-separated, to rotate one); 404 while there are none."""
    secrets = [part.strip() for part in (current_app.config.get(name) or "").split(",")]
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        abort(404)  # without a secret we could not tell the provider from anybody
    return secrets


def _record_purchase(purchase_input: PurchaseInput, *, source: str, external_id: str | None):
    """Record the purchase and answer with its receipt: 201 when new, 200 when known."""
    session = db.session()
    result = record_webhook_purchase(
        session, purchase_input, source=source, external_id=external_id, now=clock.now()
    )
    session.commit()
    if result is None:
        return {"ignored": "this webhook was received before"}, 200
    return purchase_json(result), 201 if result.created else 200


@bp.errorhandler(InvalidSignature)
def _answer_invalid_signature(exc: InvalidSignature):
    return problem_response(401, exc.title, exc.detail)


@bp.errorhandler(InvalidPayload)
def _answer_invalid_payload(exc: InvalidPayload):
    return api_problem_response(validation_problem(exc.errors))


# A purchase that cannot be accepted (422).
answer_domain_errors(bp, api_problem_response)


@bp.errorhandler(Ignored)
def _answer_ignored(exc: Ignored):
    # 2xx, or the provider would retry (and eventually disable the webhook) in vain.
    log.info("Webhook %s recorded nothing: %s", request.path, exc.reason)
    return {"ignored": exc.reason}, 200
