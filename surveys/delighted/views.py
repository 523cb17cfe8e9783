"""The Delighted-compatible routes: people, survey responses, unsubscribes and bounces."""

from __future__ import annotations

import base64
import binascii

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from surveys import clock
from surveys.api.domain_errors import answer_domain_errors
from surveys.auth import admit_api_key
from surveys.db import db
from surveys.delighted import params, queries, schemas
from surveys.delighted.blueprint import bp
from surveys.errors import ApiProblem
from surveys.external_urls import external_url
from surveys.services.customers.people import send_to_person, unsubscribe_address

AUTH_HELP = "Send your API key as the user name of HTTP Basic auth, with an empty password."


@bp.before_request
def require_api_key():
    """Every route here needs an API key (Delighted's clients send it as the Basic user name);
    a read-only key may only GET."""
    admit_api_key(_basic_user_name(), unauthorized_detail=AUTH_HELP)


def _basic_user_name() -> str:
    """The user name of `Authorization: Basic …`, or "" when there is none.

    Some of Delighted's clients encoded the key alone, without the `:` and the
    empty password, so the colon is optional here.
    """
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0].strip()


@bp.errorhandler(ApiProblem)
def handle_problem(exc: ApiProblem):
    """Errors on /v1 keep Delighted's shape (see schemas.error_response)."""
    return schemas.error_response(exc.status, exc.detail, exc.errors)


# A purchase that cannot be accepted (422), in the same shape.
answer_domain_errors(bp, handle_problem)


@bp.errorhandler(HTTPException)
def handle_http_exception(exc: HTTPException):
    """A 413 or the like raised while reading a request, in Delighted's shape."""
    return schemas.error_response(exc.code or 500, exc.description)


@bp.post("/people.json")
def create_person():
    """Create or update a person and decide their survey (an order id makes it a purchase)."""
    person, properties = params.parse_person(params.read_params())
    session = db.session()
    result = send_to_person(session, person, now=clock.now())
    session.commit()
    return schemas.person_json(result, properties)


@bp.get("/survey_responses.json")
def list_survey_responses():
    """Completed responses, oldest first unless `order=desc`, a page at a time."""
    query = params.parse_response_query(request.args)
    session = db.session()
    responses = queries.list_survey_responses(session, query)
    case_ids = queries.cases_of(session, responses)
    return jsonify(
        [
            schemas.survey_response_json(
                response,
                expand_person=query.expand_person,
                # No page of ours shows one response alone: its case does, else the customer.
                permalink=(
                    external_url("inbox.show_case", case_id=case_ids[response.id])
                    if response.id in case_ids
                    else external_url("inbox.show_customer", customer_id=response.customer_id)
                ),
            )
            for response in responses
        ]
    )


@bp.post("/unsubscribes.json")
def create_unsubscribe():
    """Stop surveying an address at once, cancelling any survey not yet sent."""
    email = params.parse_unsubscribe(params.read_params())
    session = db.session()
    unsubscribe_address(session, email, now=clock.now())
    session.commit()
    return {"ok": True}


@bp.get("/unsubscribes.json")
def list_unsubscribes():
    """Suppressed addresses other than bounces, in the order they were suppressed."""
    window = params.parse_list_query(request.args)
    customers = queries.list_suppressed(db.session(), window, bounced=False)
    return jsonify([schemas.suppressed_json(c, "unsubscribed_at") for c in customers])


@bp.get("/bounces.json")
def list_bounces():
    """Addresses whose mail bounced, in the order they bounced."""
    window = params.parse_list_query(request.args)
    customers = queries.list_suppressed(db.session(), window, bounced=True)
    return jsonify([schemas.suppressed_json(c, "bounced_at") for c in customers])
