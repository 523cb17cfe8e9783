"""Webhook endpoints: SendGrid's signed Event Webhook (CONTRACT §4 "Webhooks in").

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
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.services.email_events import InvalidEvents, record_email_events

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

# A signed request older than this is refused: a captured one cannot be replayed later.
SENDGRID_TOLERANCE = timedelta(minutes=10)


@bp.post("/sendgrid")
def receive_sendgrid_events():
    """SendGrid's Event Webhook: verify its signature, then record each event once."""
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
        result = record_email_events(session, events, now=clock.now())
    except InvalidEvents as exc:
        raise ApiProblem(400, "Not a list of events", str(exc)) from None
    session.commit()
    return {"received": result.received, "recorded": result.recorded}, 200


def _verify_sendgrid_signature(raw: bytes, *, signature: str | None, timestamp: str | None,
                               public_key: EllipticCurvePublicKey) -> None:
    """Raise a 401 problem unless SendGrid signed `timestamp + body` recently."""
    if not signature or not timestamp:
        raise ApiProblem(401, "Unsigned request",
                         "The SendGrid signature and timestamp headers are required.")
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ApiProblem(401, "Invalid signature", "The timestamp is not a Unix time.") from None
    if abs(clock.now() - signed_at) > SENDGRID_TOLERANCE:
        raise ApiProblem(401, "Stale request",
                         "The signature is more than 10 minutes away from our clock.")
    try:
        valid = EventWebhook().verify_signature(
            raw.decode("utf-8"), signature, timestamp, public_key=public_key)
    except (UnicodeDecodeError, binascii.Error, ValueError):
        valid = False
    if not valid:
        raise ApiProblem(401, "Invalid signature",
                         "The signature does not match the body and timestamp.")


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
