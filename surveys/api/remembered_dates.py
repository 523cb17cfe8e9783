"""Dates that matter to a customer: GET, POST /api/v1/customers/<id>/dates and DELETE one.

The same service as the customer page records them (`surveys.services.occasions.dates`),
naming the calling API key as who recorded it. An API key sees every customer, as an
admin does; an erased customer, like one that does not exist, answers 404.
"""

from __future__ import annotations

from flask import g
from pydantic import Field, TypeAdapter

from surveys import clock
from surveys.api import schemas
from surveys.api.blueprint import bp
from surveys.api.inputs import ApiInput, body_ref, openapi_schemas, parse_body
from surveys.auth import api_key_required
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.models import Customer, RememberedDate
from surveys.services.occasions import dates
from surveys.validation.numbers import DatabaseId, WholeNumber
from surveys.validation.text import Text


class RememberedDateInput(ApiInput):
    """A date that matters to the customer: day and month, the year when it is known."""

    label: Text(dates.MAX_LABEL_LENGTH) = Field(
        description="What it is: “Emma’s graduation”, “birthday”, “first order anniversary”."
    )
    day: WholeNumber(1, 31) = Field(
        description="The day of the month; 422 when the month has no such day (31 April), "
        "and for 29 February with a year that is not a leap year."
    )
    month: WholeNumber(1, 12)
    year: WholeNumber(dates.MIN_YEAR, dates.MAX_YEAR) | None = Field(
        None, description="The year, when it is known."
    )
    yearly: bool = Field(
        True,
        description="Whether it comes back every year (a yearly 29 February falls on "
        "28 February in other years).",
    )


def _path_id(name: str, what: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"{what}; an id nothing has answers 404.",
        "schema": TypeAdapter(DatabaseId).json_schema(),
    }


_CUSTOMER_ID = _path_id("customer_id", "A customer's id")
_DATE = {"application/json": {"schema": {"$ref": "#/components/schemas/RememberedDate"}}}
_COMMON = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "404": {"$ref": "#/components/responses/NotFound"},
}

OPENAPI_SCHEMAS = {
    **openapi_schemas((RememberedDateInput,)),
    "RememberedDate": {
        "type": "object",
        "required": [
            "id",
            "customer_id",
            "label",
            "day",
            "month",
            "year",
            "yearly",
            "next_occurrence",
            "recorded_by",
            "created_at",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "customer_id": {"type": "integer"},
            "label": {"type": "string"},
            "day": {"type": "integer", "minimum": 1, "maximum": 31},
            "month": {"type": "integer", "minimum": 1, "maximum": 12},
            "year": {"type": ["integer", "null"]},
            "yearly": {"type": "boolean"},
            "next_occurrence": {
                "type": ["string", "null"],
                "format": "date",
                "description": "The next day it falls on that nobody was reminded of yet; "
                "null once a one-off date has passed.",
            },
            "recorded_by": {
                "type": ["string", "null"],
                "description": "Who recorded it: a person's name or an API key's.",
            },
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "RememberedDateList": {
        "type": "object",
        "required": ["items"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/RememberedDate"}}
        },
    },
}

OPENAPI_PATHS = {
    "/customers/{customer_id}/dates": {
        "get": {
            "operationId": "listCustomerDates",
            "summary": "A customer's dates that matter, the soonest first",
            "tags": ["Customers"],
            "parameters": [_CUSTOMER_ID],
            "responses": {
                "200": {
                    "description": "The dates.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/RememberedDateList"}
                        }
                    },
                },
                **_COMMON,
            },
        },
        "post": {
            "operationId": "createCustomerDate",
            "summary": "Remember a date that matters to the customer",
            "description": "Its account owner is emailed a few days before each time it "
            "comes (7 by default). 422 names `day` for a day the month does not have.",
            "tags": ["Customers"],
            "parameters": [_CUSTOMER_ID],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_ref(RememberedDateInput)}},
            },
            "responses": {
                "201": {"description": "Remembered.", "content": _DATE},
                "400": {"$ref": "#/components/responses/MalformedJson"},
                **_COMMON,
                "413": {"$ref": "#/components/responses/ContentTooLarge"},
                "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        },
    },
    "/customers/{customer_id}/dates/{date_id}": {
        "delete": {
            "operationId": "deleteCustomerDate",
            "summary": "Forget one of the customer's dates",
            "tags": ["Customers"],
            "parameters": [_CUSTOMER_ID, _path_id("date_id", "One of this customer's dates")],
            "responses": {"204": {"description": "Forgotten."}, **_COMMON},
        }
    },
}


def remembered_date_json(remembered: RememberedDate) -> dict:
    """A date as the API shows it."""
    return {
        "id": remembered.id,
        "customer_id": remembered.customer_id,
        "label": remembered.label,
        "day": remembered.day,
        "month": remembered.month,
        "year": remembered.year,
        "yearly": remembered.yearly,
        "next_occurrence": remembered.next_occurrence.isoformat()
        if remembered.next_occurrence
        else None,
        "recorded_by": remembered.recorded_by.name
        if remembered.recorded_by
        else remembered.recorded_via,
        "created_at": schemas.rfc3339(remembered.created_at),
    }


def _customer(customer_id: int) -> Customer:
    customer = db.session().get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise ApiProblem(404, "Not Found", f"There is no customer {customer_id}.")
    return customer


@bp.get("/customers/<int:customer_id>/dates")
@api_key_required
def list_customer_dates(customer_id: int):
    """The customer's dates that matter, the soonest first."""
    customer = _customer(customer_id)
    return {"items": [remembered_date_json(d) for d in dates.dates_of(db.session(), customer)]}


@bp.post("/customers/<int:customer_id>/dates")
@api_key_required
def create_customer_date(customer_id: int):
    """Remember a date that matters to the customer."""
    session = db.session()
    customer = _customer(customer_id)
    body = parse_body(RememberedDateInput)
    try:
        remembered = dates.record_date(
            session,
            customer,
            dates.DateInput(body.label, body.day, body.month, body.year, body.yearly),
            now=clock.now(),
            via=f"API key “{g.api_key.name}”"[:100],
            source="api",
        )
    except dates.DateError as exc:
        session.rollback()
        raise schemas.validation_problem(
            {field: [why] for field, why in exc.errors.items()}
        ) from None
    session.commit()
    return remembered_date_json(remembered), 201


@bp.delete("/customers/<int:customer_id>/dates/<int:date_id>")
@api_key_required
def delete_customer_date(customer_id: int, date_id: int):
    """Forget one of the customer's dates."""
    session = db.session()
    customer = _customer(customer_id)
    try:
        remembered = dates.get_date(session, customer, date_id)
    except dates.DateNotFound as exc:
        raise ApiProblem(404, "Not Found", str(exc)) from None
    dates.remove_date(session, remembered)
    session.commit()
    return "", 204
