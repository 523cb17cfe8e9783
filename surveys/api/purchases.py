"""POST /api/v1/purchases: a purchase reaches us and its heart-to-heart survey is scheduled."""

from __future__ import annotations

from surveys import clock
from surveys.api import schemas
from surveys.api.blueprint import bp
from surveys.api.inputs import PurchaseInput, body_ref, parse_body
from surveys.auth import api_key_required
from surveys.db import db
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
    }
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
