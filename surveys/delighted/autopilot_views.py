"""Delighted's Autopilot, by email: its configuration and its members. SMS is not offered."""

from __future__ import annotations

from flask import jsonify, request

from surveys import clock
from surveys.api.schemas import validation_problem
from surveys.db import db
from surveys.delighted import params, people_params, queries, schemas
from surveys.delighted.blueprint import route
from surveys.delighted.views import next_page_link
from surveys.errors import ApiProblem
from surveys.models import Setting
from surveys.services.customers.autopilot import (
    MemberFilter,
    autopilot_interval,
    join_autopilot,
    leave_autopilot,
    list_memberships,
)

NO_SMS = "Autopilot by SMS is not offered: surveys are sent by email only. Use /v1/autopilot/email."


@route("/autopilot/email", methods=["GET"])
def show_autopilot_configuration():
    """The email Autopilot: on, inviting members every configured interval."""
    session = db.session()
    stored = session.get(Setting, "autopilot_interval_days")
    return schemas.autopilot_configuration_json(
        int(autopilot_interval(session).total_seconds()),
        stored.updated_at if stored is not None else None,
    )


@route("/autopilot/email/memberships", methods=["GET"])
def list_autopilot_memberships():
    """The members, in the order they joined, a page at a time (a cursor in `Link`)."""
    query = people_params.parse_membership_query(request.args)
    page = MemberFilter(
        limit=query.limit + 1,  # one more: is there a next page?
        after_id=query.page_info,
        customer_id=query.person_id,
        email=query.person_email,
    )
    memberships = list_memberships(db.session(), page)
    shown = memberships[: query.limit]
    response = jsonify([schemas.membership_json(membership) for membership in shown])
    if len(memberships) > query.limit:
        next_page_link(response, page_info=shown[-1].id)
    return response


@route("/autopilot/email/memberships", methods=["POST"])
def create_autopilot_membership():
    """Add a person to Autopilot, or replace the properties of one already in."""
    given = people_params.parse_membership(params.read_params())
    session = db.session()
    email = given.person_email
    if email is None:
        customer = queries.find_person(session, "id", given.person_id)
        if customer is None:
            raise validation_problem({"person_id": ["is not the id of a person"]})
        email = customer.email
    membership = join_autopilot(
        session, email, given.properties, now=clock.now(), name=given.person_name
    )
    session.commit()
    shown = schemas.membership_json(membership)
    return {"person": shown["person"], "properties": dict(membership.properties)}


@route("/autopilot/email/memberships", methods=["DELETE"])
def delete_autopilot_membership():
    """Take a person out of Autopilot; their reviews not yet sent are cancelled."""
    given = people_params.parse_member_to_remove(params.read_params())
    session = db.session()
    if given.person_id is not None:
        customer = queries.find_person(session, "id", given.person_id)
    else:
        customer = queries.find_person(session, "email", given.person_email)
    if customer is None:
        raise ApiProblem(404, "Not Found", "No person has this id or email.")
    if not leave_autopilot(session, customer):
        raise ApiProblem(404, "Not Found", "This person is not in Autopilot.")
    session.commit()
    return {"person": {**schemas.person_summary(customer), "phone_number": None}}


@route("/autopilot/sms", methods=["GET"])
@route("/autopilot/sms/memberships", methods=["GET", "POST", "DELETE"])
def refuse_sms_autopilot():
    """Autopilot by SMS: a 422 that says so."""
    raise validation_problem({"platform": [NO_SMS]})
