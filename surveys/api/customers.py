"""Customers and touch points: GET /api/v1/customers?email=… and POST /api/v1/touchpoints."""

from __future__ import annotations

from surveys import clock
from surveys.api import schemas
from surveys.api.blueprint import bp
from surveys.api.inputs import (
    CustomerQuery,
    TouchpointInput,
    body_ref,
    parse_body,
    parse_query,
    query_parameters,
)
from surveys.auth import api_key_required
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.models import Customer, Touchpoint
from surveys.services.customers import touchpoints
from surveys.services.customers.profile import customer_profile, find_customer_by_email
from surveys.services.customers.touchpoints import TouchpointError

_PROBLEMS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
}
_TALLY_DESCRIPTION = (
    "Positive and negative touch points; `ratio` is positives per negative (one decimal), "
    "against the aim of 10, and null while there is no negative touch point."
)

OPENAPI_SCHEMAS = {
    "Customer": {
        "type": "object",
        "required": [
            "id",
            "email",
            "name",
            "owner",
            "preferences",
            "notes",
            "touchpoints",
            "suppressed",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": ["string", "null"]},
            "owner": {
                "description": "The account owner, or null.",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["email", "name"],
                        "additionalProperties": False,
                        "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
                    },
                ],
            },
            "preferences": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What the customer told us about themselves, newest first.",
            },
            "notes": {
                "type": "array",
                "description": "Personal notes owners keep about the customer, newest first.",
                "items": {
                    "type": "object",
                    "required": ["body", "author", "created_at"],
                    "additionalProperties": False,
                    "properties": {
                        "body": {"type": "string"},
                        "author": {"type": ["string", "null"]},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
            "touchpoints": {
                "type": "object",
                "description": _TALLY_DESCRIPTION,
                "required": ["positive", "negative", "ratio"],
                "additionalProperties": False,
                "properties": {
                    "positive": {"type": "integer", "minimum": 0},
                    "negative": {"type": "integer", "minimum": 0},
                    "ratio": {"type": ["number", "null"]},
                },
            },
            "suppressed": {
                "type": "boolean",
                "description": "Unsubscribed, bounced or complained: never surveyed.",
            },
        },
    },
    "Touchpoint": {
        "type": "object",
        "required": ["id", "customer_email", "kind", "polarity", "note", "occurred_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "customer_email": {"type": "string"},
            "kind": {"type": "string"},
            "polarity": {"type": "string", "enum": list(touchpoints.POLARITIES)},
            "note": {"type": ["string", "null"]},
            "occurred_at": {"type": "string", "format": "date-time"},
        },
    },
}

OPENAPI_PATHS = {
    "/customers": {
        "get": {
            "operationId": "findCustomer",
            "summary": "A customer by email address",
            "description": "The customer's owner, stated preferences, personal notes, "
            "touch-point counts and whether the address is suppressed.",
            "tags": ["Customers"],
            "parameters": query_parameters(CustomerQuery),
            "responses": {
                "200": {
                    "description": "The customer.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Customer"}}
                    },
                },
                **_PROBLEMS,
                "404": {"$ref": "#/components/responses/NotFound"},
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        }
    },
    "/touchpoints": {
        "post": {
            "operationId": "createTouchpoint",
            "summary": "Record a contact made elsewhere",
            "description": "A contact with a known customer made outside this service (an "
            "invoice, a call), counted in their ten-to-one ledger. 422 names "
            "`customer_email` for an unknown customer, `polarity` unless it is "
            "`positive`, `negative` or `neutral`.",
            "tags": ["Customers"],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_ref(TouchpointInput)}},
            },
            "responses": {
                "201": {
                    "description": "Recorded.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Touchpoint"}}
                    },
                },
                "400": {"$ref": "#/components/responses/MalformedJson"},
                **_PROBLEMS,
                "413": {"$ref": "#/components/responses/ContentTooLarge"},
                "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        }
    },
}


def customer_json(profile) -> dict:
    """A customer as the API shows it."""
    customer, tally = profile.customer, profile.tally
    return {
        "id": customer.id,
        "email": customer.email,
        "name": customer.name,
        "owner": None
        if customer.owner is None
        else {"email": customer.owner.email, "name": customer.owner.name},
        "preferences": [preference.body for preference in profile.remembered.preferences],
        "notes": [
            {
                "body": note.body,
                "author": note.author.name if note.author else None,
                "created_at": schemas.rfc3339(note.created_at),
            }
            for note in profile.remembered.notes
        ],
        "touchpoints": {
            "positive": tally.positive,
            "negative": tally.negative,
            "ratio": tally.ratio,
        },
        "suppressed": customer.suppressed_at is not None,
    }


def touchpoint_json(touchpoint: Touchpoint, customer_email: str) -> dict:
    return {
        "id": touchpoint.id,
        "customer_email": customer_email,
        "kind": touchpoint.kind,
        "polarity": touchpoint.polarity,
        "note": touchpoint.note,
        "occurred_at": schemas.rfc3339(touchpoint.occurred_at),
    }


@bp.get("/customers")
@api_key_required
def find_customer():
    """The customer with this email address (404 when we do not know them)."""
    query = parse_query(CustomerQuery)
    session = db.session()
    customer = find_customer_by_email(session, query.email)
    if customer is None or customer.erased_at is not None:
        raise ApiProblem(404, "Not Found", "No customer has this email address.")
    return customer_json(customer_profile(session, customer))


@bp.post("/touchpoints")
@api_key_required
def create_touchpoint():
    """Record a contact with a customer made elsewhere (an invoice is a negative one)."""
    body = parse_body(TouchpointInput)
    session = db.session()
    try:
        touchpoint = touchpoints.record_contact_elsewhere(
            session,
            customer_email=body.customer_email,
            kind=body.kind,
            polarity=body.polarity,
            note=body.note,
            occurred_at=body.occurred_at,
            now=clock.now(),
        )
    except TouchpointError as exc:
        session.rollback()
        raise schemas.validation_problem(
            {field: [why] for field, why in exc.errors.items()}
        ) from None
    session.commit()
    return touchpoint_json(touchpoint, session.get(Customer, touchpoint.customer_id).email), 201
