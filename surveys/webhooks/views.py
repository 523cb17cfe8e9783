"""Webhook endpoints: SendGrid's signed Event Webhook, Shopify orders and Stripe
checkouts (README's *Shopify and Stripe*), and emails back from Inbound Parse (`inbound`).

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
from surveys.outbox.outcomes import record_sendgrid_events
from surveys.services.purchases import PurchaseInput
from surveys.services.received_webhooks import record_webhook_purchase
from surveys.webhooks import inbound, sendgrid, shopify, stripe
from surveys.webhooks.payloads import Ignored, InvalidPayload, InvalidSignature

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
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
    """Shopify's orders/paid webhook: verify it, then record the order's purchase once."""
    secrets = _configured_secrets("SHOPIFY_WEBHOOK_SECRET")
    request.max_content_length = SHOPIFY_MAX_BODY
    raw = request.get_data(cache=False)
    shopify.verify_signature(raw, request.headers.get("X-Shopify-Hmac-Sha256"), secrets)
    topic = request.headers.get("X-Shopify-Topic")
    if topic != shopify.ORDERS_PAID:
        raise Ignored(
            f"the {topic or 'unnamed'} topic is not recorded; "
            f"subscribe this address to {shopify.ORDERS_PAID} only"
        )
    purchase_input = shopify.purchase_from_order(parse_json_document(raw))
    external_id = shopify.webhook_id(request.headers.get(shopify.WEBHOOK_ID_HEADER))
    return _record_purchase(purchase_input, source="shopify", external_id=external_id)


@bp.post("/stripe")
def receive_stripe_event():
    """Stripe's Checkout events: verify them, then record each paid session's purchase once."""
    secrets = _configured_secrets("STRIPE_WEBHOOK_SECRET")
    raw = request.get_data(cache=False)
    stripe.verify_signature(raw, request.headers.get("Stripe-Signature"), secrets, now=clock.now())
    event, checkout_session = stripe.checkout_event(parse_json_document(raw))
    purchase_input = stripe.purchase_from_session(checkout_session)
    return _record_purchase(purchase_input, source="stripe", external_id=event.id)


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
