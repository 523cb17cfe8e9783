"""Webhook endpoints: SendGrid's signed Event Webhook, Shopify orders and Stripe
checkouts (CONTRACT §4 "Webhooks in").

Machines call these, so they answer problem documents, carry no session and
need no CSRF token: each request proves itself with its signature instead.
"""

from __future__ import annotations

import binascii
import functools
import json
import logging
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from flask import Blueprint, abort, current_app, request
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from surveys import clock
from surveys.api.schemas import purchase_json, validation_problem
from surveys.db import db
from surveys.errors import ApiProblem, problem_response
from surveys.mail.outcomes import record_sendgrid_events
from surveys.services.email_events import InvalidEvents
from surveys.services.purchases import PurchaseInput, PurchaseRejected
from surveys.services.received_webhooks import record_webhook_purchase
from surveys.webhooks import shopify, stripe
from surveys.webhooks.payloads import Ignored, InvalidPayload, InvalidSignature

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

# A signed request older than this is refused: a captured one cannot be replayed later.
SENDGRID_TOLERANCE = timedelta(minutes=10)


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
    _verify_sendgrid_signature(
        raw,
        signature=request.headers.get(EventWebhookHeader.SIGNATURE),
        timestamp=request.headers.get(EventWebhookHeader.TIMESTAMP),
        public_key=_public_key(key_text),
    )
    try:
        events = json.loads(raw)
    except ValueError:
        raise ApiProblem(400, "Malformed JSON", "The body is not valid JSON.") from None
    session = db.session()
    try:
        result = record_sendgrid_events(session, events, now=clock.now())
    except InvalidEvents as exc:
        raise ApiProblem(400, "Not a list of events", str(exc)) from None
    session.commit()
    return {"received": result.received, "recorded": result.recorded}, 200


def _verify_sendgrid_signature(
    raw: bytes, *, signature: str | None, timestamp: str | None, public_key: EllipticCurvePublicKey
) -> None:
    """Raise a 401 problem unless SendGrid signed `timestamp + body` recently."""
    if not signature or not timestamp:
        raise ApiProblem(
            401, "Unsigned request", "The SendGrid signature and timestamp headers are required."
        )
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ApiProblem(401, "Invalid signature", "The timestamp is not a Unix time.") from None
    if abs(clock.now() - signed_at) > SENDGRID_TOLERANCE:
        raise ApiProblem(
            401, "Stale request", "The signature is more than 10 minutes away from our clock."
        )
    try:
        valid = EventWebhook().verify_signature(
            raw.decode("utf-8"), signature, timestamp, public_key=public_key
        )
    except (UnicodeDecodeError, binascii.Error, ValueError):
        valid = False
    if not valid:
        raise ApiProblem(
            401, "Invalid signature", "The signature does not match the body and timestamp."
        )


@functools.lru_cache(maxsize=4)
def _public_key(key_text: str) -> EllipticCurvePublicKey:
    """The configured key (SendGrid's base64, with or without the PEM lines), parsed once."""
    body = "".join(line for line in key_text.strip().splitlines() if "-----" not in line)
    try:
        return EventWebhook().convert_public_key_to_ecdsa(body)
    except ValueError as exc:
        # A configuration mistake: 500, so SendGrid keeps retrying until it is fixed.
        log.error("SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid public key: %s", exc)
        raise


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
    purchase_input = shopify.purchase_from_order(_json(raw))
    return _record_purchase(
        purchase_input,
        source="shopify",
        external_id=shopify.webhook_id(request.headers.get("X-Shopify-Webhook-Id")),
    )


@bp.post("/stripe")
def receive_stripe_event():
    """Stripe's Checkout events: verify them, then record each paid session's purchase once."""
    secrets = _configured_secrets("STRIPE_WEBHOOK_SECRET")
    raw = request.get_data(cache=False)
    stripe.verify_signature(raw, request.headers.get("Stripe-Signature"), secrets, now=clock.now())
    event = stripe.checkout_event(_json(raw))
    purchase_input = stripe.purchase_from_session(event.session)
    return _record_purchase(purchase_input, source="stripe", external_id=event.id)


def _configured_secrets(name: str) -> list[str]:
    """The endpoint's secrets (comma-separated, to rotate one); 404 while there are none."""
    secrets = [part.strip() for part in (current_app.config.get(name) or "").split(",")]
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        abort(404)  # without a secret we could not tell the provider from anybody
    return secrets


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiProblem(400, "Malformed JSON", "The body is not valid JSON.") from None


def _record_purchase(purchase_input: PurchaseInput, *, source: str, external_id: str | None):
    """Record the purchase and answer with its receipt: 201 when new, 200 when known."""
    session = db.session()
    try:
        result = record_webhook_purchase(
            session, purchase_input, source=source, external_id=external_id, now=clock.now()
        )
    except PurchaseRejected as exc:
        raise validation_problem(exc.errors) from None
    session.commit()
    if result is None:
        return {"ignored": "this webhook was received before"}, 200
    return purchase_json(result), 201 if result.created else 200


@bp.errorhandler(InvalidSignature)
def _answer_invalid_signature(exc: InvalidSignature):
    return problem_response(401, exc.title, exc.detail)


@bp.errorhandler(InvalidPayload)
def _answer_invalid_payload(exc: InvalidPayload):
    problem = validation_problem(exc.errors)
    return problem_response(
        problem.status, problem.title, problem.detail, errors=problem.errors, type_=problem.type
    )


@bp.errorhandler(Ignored)
def _answer_ignored(exc: Ignored):
    # 2xx, or the provider would retry (and eventually disable the webhook) in vain.
    log.info("Webhook %s recorded nothing: %s", request.path, exc.reason)
    return {"ignored": exc.reason}, 200
