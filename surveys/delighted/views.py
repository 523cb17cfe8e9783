"""The Delighted-compatible routes: who may call them, their errors, people, unsubscribes,
bounces. Survey responses and metrics are in response_views, Autopilot in autopilot_views."""

from __future__ import annotations

from flask import g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from surveys import clock
from surveys.api.domain_errors import answer_domain_errors
from surveys.api.schemas import validation_problem
from surveys.auth import admit_api_key, basic_user_name
from surveys.db import db
from surveys.delighted import params, people_params, queries, schemas
from surveys.delighted.blueprint import bp, route
from surveys.errors import ApiProblem, is_delighted_path
from surveys.services.customers.erasure import erase_customer
from surveys.services.customers.people import (
    cancel_pending_requests,
    send_to_person,
    unsubscribe_address,
)
from surveys.validation.addresses import read_email

AUTH_HELP = "Send your API key as the user name of HTTP Basic auth, with an empty password."


@bp.before_app_request
def require_api_key():
    """Every /v1 path needs an API key, routed or not, so a wrong key is a 401 everywhere
    (Delighted's clients send it as the Basic user name); a read-only key may only GET."""
    if is_delighted_path():
        admit_api_key(basic_user_name(), unauthorized_detail=AUTH_HELP)


@bp.errorhandler(ApiProblem)
def handle_problem(exc: ApiProblem):
    """Errors on /v1 keep Delighted's shape (see surveys.errors.delighted_error_response)."""
    return schemas.error_response(exc.status, exc.detail, exc.errors)


# A purchase that cannot be accepted (422), in the same shape.
answer_domain_errors(bp, handle_problem)


@bp.errorhandler(HTTPException)
def handle_http_exception(exc: HTTPException):
    """A 413, or a 429 from the rate limit, in Delighted's shape."""
    if exc.response is not None:
        return exc.response
    return schemas.error_response(exc.code or 500, exc.description)


def next_page_link(response, **cursor) -> None:
    """Point Delighted's clients at the next page: `Link: <…>; rel="next"`."""
    args = {**request.args.to_dict(), **{name: str(value) for name, value in cursor.items()}}
    url = url_for(request.endpoint, _external=True, **request.view_args, **args)
    response.headers["Link"] = f'<{url}>; rel="next"'


@route("/people", methods=["POST"])
def create_person():
    """Create or update a person and decide their survey (an order id makes it a purchase)."""
    person, properties = params.parse_person(params.read_params())
    session = db.session()
    result = send_to_person(session, person, now=clock.now())
    session.commit()
    return schemas.person_json(result, properties)


@route("/people", methods=["GET"])
def list_people():
    """People in the order they were created, a page at a time (a cursor in `Link`)."""
    query = people_params.parse_people_query(request.args)
    session = db.session()
    people = queries.list_people(session, query)
    shown = people[: query.limit]
    activity = queries.activity_of(session, shown)
    response = jsonify([schemas.listed_person_json(c, activity.get(c.id)) for c in shown])
    if len(people) > query.limit:
        next_page_link(response, page_info=shown[-1].id)
    return response


@route("/people/<person_id>", methods=["DELETE"])
def delete_person(person_id: str):
    """Erase a person's personal data, as `flask customers erase` does, on the audit log as
    done by this API key. 202, as Delighted answered."""
    kind, value = people_params.parse_person_identifier(person_id)
    session = db.session()
    customer = queries.find_person(session, kind, value)
    if customer is None:
        raise ApiProblem(404, "Not Found", "No person has this id or email.")
    erase_customer(session, customer, now=clock.now(), by_api_key=g.api_key)
    session.commit()
    return {"ok": True}, 202


@route("/people/<person_email>/survey_requests/pending", methods=["DELETE"])
def delete_pending_survey_requests(person_email: str):
    """Cancel the surveys not yet sent to this address (and their reminders), unsuppressed."""
    try:
        email = read_email(person_email)
    except ValueError as exc:
        raise validation_problem({"person_email": [str(exc)]}) from None
    session = db.session()
    cancel_pending_requests(session, email)
    session.commit()
    return {"ok": True}


@route("/unsubscribes", methods=["POST"])
def create_unsubscribe():
    """Stop surveying an address at once, cancelling any survey not yet sent."""
    email = params.parse_unsubscribe(params.read_params())
    session = db.session()
    unsubscribe_address(session, email, now=clock.now())
    session.commit()
    return {"ok": True}


@route("/unsubscribes", methods=["GET"])
def list_unsubscribes():
    """Suppressed addresses other than bounces, in the order they were suppressed."""
    window = params.parse_list_query(request.args)
    customers = queries.list_suppressed(db.session(), window, bounced=False)
    return jsonify([schemas.suppressed_json(c, "unsubscribed_at") for c in customers])


@route("/bounces", methods=["GET"])
def list_bounces():
    """Addresses whose mail bounced, in the order they bounced."""
    window = params.parse_list_query(request.args)
    customers = queries.list_suppressed(db.session(), window, bounced=True)
    return jsonify([schemas.suppressed_json(c, "bounced_at") for c in customers])
