"""POST /api/v1/purchases: a purchase reaches us and its heart-to-heart survey is scheduled;
POST /api/v1/purchases/<order_id>/cancel: it was refunded or cancelled, so we do not ask."""

from __future__ import annotations

from surveys import clock
from surveys.api import schemas
from surveys.api.blueprint import bp
from surveys.api.inputs import (
    CancelPurchaseInput,
    PurchaseInput,
    body_ref,
    order_id_in_path,
    parse_body,
)
from surveys.auth import api_key_required
from surveys.db import db
from surveys.services.purchase_cancellations import (
    PurchaseNotFound,
    cancel_purchase,
    purchase_with_order_id,
)
from surveys.services.purchases import record_purchase

_RECEIPT = {"application/json": {"schema": {"$ref": "#/components/schemas/PurchaseReceipt"}}}

OPENAPI_PATHS = {
    "/purchases": {
        "post": {
            "operationId": "createPurchase",
            "summary": "Record a purchase and schedule its survey",
            "description": (
                "Idempotent on `order_id`: the first post answers 201, any later post of the "
                "same order 200 with the same body, creating nothing. The survey is "
                "`scheduled` at purchase time plus the survey delay (never in the past), "
                "`throttled` when the customer was surveyed within the throttle window "
                "(30 days by default), `suppressed` when the address unsubscribed or "
                "bounced, or `skipped` when the purchase is older than the age limit "
                "(30 days by default)."
            ),
            "tags": ["Purchases"],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_ref(PurchaseInput)}},
            },
            "responses": {
                "201": {"description": "A new order, recorded.", "content": _RECEIPT},
                "200": {
                    "description": "An order already received; nothing was created.",
                    "content": _RECEIPT,
                },
                "400": {"$ref": "#/components/responses/MalformedJson"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "413": {"$ref": "#/components/responses/ContentTooLarge"},
                "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        }
    },
    "/purchases/{order_id}/cancel": {
        "post": {
            "operationId": "cancelPurchase",
            "summary": "Say an order was refunded or cancelled: its survey is not sent",
            "description": (
                "The purchase's survey is cancelled if it was not sent yet (`scheduled`, or "
                "`held` while the customer has a case open), with `reason`, and so are its "
                "email and reminder still waiting; a survey already sent gets no reminder; "
                "one already answered is kept. The address is not suppressed: the next "
                "purchase is surveyed as usual. With `refunded`, the refund is a negative "
                "touch on the customer's ledger. Idempotent: cancelling the same order again "
                "changes nothing and answers the same receipt."
            ),
            "tags": ["Purchases"],
            "parameters": [
                {
                    "name": "order_id",
                    "in": "path",
                    "required": True,
                    "description": "The order id the purchase was posted with; one no "
                    "purchase has answers 404.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_ref(CancelPurchaseInput)}},
            },
            "responses": {
                "200": {
                    "description": "Cancelled (or cancelled before); the receipt as it is now.",
                    "content": _RECEIPT,
                },
                "400": {"$ref": "#/components/responses/MalformedJson"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
                "413": {"$ref": "#/components/responses/ContentTooLarge"},
                "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        }
    },
}


@bp.post("/purchases")
@api_key_required
def create_purchase():
    """Record a purchase (201), or answer for an order already received (200)."""
    purchase_input = parse_body(PurchaseInput).to_service_input()
    session = db.session()
    result = record_purchase(session, purchase_input, now=clock.now(), source="api")
    session.commit()
    return schemas.purchase_json(result), 201 if result.created else 200


# `path`: an order id may hold a slash ("2026/0042").
@bp.post("/purchases/<path:order_id>/cancel")
@api_key_required
def cancel_purchase_order(order_id: str):
    """Stop asking about a refunded or cancelled order (200), or 404 for an unknown one."""
    known_id = order_id_in_path(order_id)
    if known_id is None:
        raise PurchaseNotFound(order_id)
    body = parse_body(CancelPurchaseInput)
    session = db.session()
    purchase = purchase_with_order_id(session, known_id)
    reason = f"the order was {'refunded' if body.refunded else 'cancelled'}: {body.reason}"
    cancellation = cancel_purchase(
        session, purchase, reason=reason, refunded=body.refunded, now=clock.now()
    )
    session.commit()
    return schemas.purchase_json(cancellation.result), 200
