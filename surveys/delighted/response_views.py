"""The Delighted-compatible survey responses (list, one, record, annotate) and metrics."""

from __future__ import annotations

from datetime import timedelta

from flask import g, jsonify, request

from surveys import clock
from surveys.api.schemas import validation_problem
from surveys.db import db
from surveys.delighted import params, queries, response_params, schemas
from surveys.delighted.blueprint import route
from surveys.errors import ApiProblem
from surveys.external_urls import external_url
from surveys.models import Response
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scores import net_score
from surveys.services.surveys.recorded import (
    GivenResponse,
    annotate_response,
    record_response,
)
from surveys.services.surveys.responses import InvalidAnswers
from surveys.validation.moments import EARLIEST_MOMENT

# Delighted's metrics covered the last 30 days unless told otherwise.
DEFAULT_METRICS_DAYS = 30
# Our question keys, as the fields Delighted's clients send them in.
FIELD_OF_QUESTION = {"recommend": "score", "one_thing": "comment"}
ANSWERS_ARE_THE_CUSTOMERS = "is the customer's own answer and cannot be changed"


def _question_set(key: str | None):
    """The question set `trend` names, or a 422 naming `trend`."""
    if key is None:
        return None
    question_set = queries.question_set_named(db.session(), key)
    if question_set is None:
        raise validation_problem({"trend": ["is not the key of a question set"]})
    return question_set


def _shown(response: Response, case_id: int | None, *, expand_person: bool) -> dict:
    # No page of ours shows one response alone: its case does, else the customer.
    permalink = (
        external_url("inbox.show_case", case_id=case_id)
        if case_id is not None
        else external_url("inbox.show_customer", customer_id=response.customer_id)
    )
    return schemas.survey_response_json(response, permalink=permalink, expand_person=expand_person)


def _one(response_id: int) -> Response:
    session = db.session()
    response = queries.get_survey_response(session, response_id)
    if response is None:
        raise ApiProblem(404, "Not Found", "No survey response has this id.")
    return response


def _answer_one(response: Response, *, expand_person: bool, status: int = 200):
    case_ids = queries.cases_of(db.session(), [response])
    return _shown(response, case_ids.get(response.id), expand_person=expand_person), status


@route("/survey_responses", methods=["GET"])
def list_survey_responses():
    """Completed responses, oldest first unless `order=desc`, a page at a time."""
    query = params.parse_response_query(request.args)
    session = db.session()
    responses = queries.list_survey_responses(
        session, query, question_set=_question_set(query.trend)
    )
    case_ids = queries.cases_of(session, responses)
    return jsonify(
        [
            _shown(response, case_ids.get(response.id), expand_person=query.expand_person)
            for response in responses
        ]
    )


@route("/survey_responses/<int:response_id>", methods=["GET"])
def show_survey_response(response_id: int):
    """One response, with its person expanded on `expand[]=person`."""
    expand = request.args.getlist("expand[]") + request.args.getlist("expand")
    return _answer_one(_one(response_id), expand_person="person" in expand)


@route("/survey_responses", methods=["POST"])
def create_survey_response():
    """Record a response given elsewhere; a negative one opens a case like any other."""
    given = response_params.parse_new_response(params.read_params())
    session = db.session()
    customer = queries.find_person(session, "id", given.person)
    if customer is None:
        raise validation_problem({"person": ["is not the id of a person"]})
    now = clock.now()
    if given.created_at is not None and given.created_at > now + timedelta(minutes=5):
        raise validation_problem({"created_at": ["must not be in the future"]})
    try:
        response = record_response(
            session,
            customer,
            GivenResponse(
                score=given.score,
                comment=given.comment,
                answered_at=given.created_at,
                order_id=given.person_properties.get("order_id"),
            ),
            now=now,
        )
    except InvalidAnswers as exc:
        raise validation_problem(
            {FIELD_OF_QUESTION.get(key, key): [why] for key, why in exc.errors.items()}
        ) from None
    session.commit()
    return _answer_one(_one(response.id), expand_person=False, status=201)


@route("/survey_responses/<int:response_id>", methods=["PUT"])
def update_survey_response(response_id: int):
    """Add notes and set tags; what the customer answered stays as they gave it."""
    update = response_params.parse_response_update(params.read_params())
    response = _one(response_id)
    shown = schemas.survey_response_json(response, permalink="", expand_person=False)
    errors = {}
    if update.score is not None and update.score != shown["score"]:
        errors["score"] = [ANSWERS_ARE_THE_CUSTOMERS]
    if update.comment is not None and update.comment != shown["comment"]:
        errors["comment"] = [ANSWERS_ARE_THE_CUSTOMERS]
    kept = {str(note.id): note.text for note in response.notes}
    for note in update.notes:
        if note["id"] is not None and kept.get(str(note["id"])) != note["text"]:
            errors["notes"] = ["a note with an id must be one of this response's, unchanged"]
    if errors:
        raise validation_problem(errors)
    annotate_response(
        db.session(),
        response,
        new_notes=[note["text"] for note in update.notes if note["id"] is None],
        tags=update.tags,
        by_api_key=g.api_key,
        now=clock.now(),
    )
    db.session().commit()
    expand = "person" in (request.args.getlist("expand[]") + request.args.getlist("expand"))
    return _answer_one(_one(response_id), expand_person=expand)


@route("/metrics", methods=["GET"])
def show_metrics():
    """The net score of a window (the last 30 days unless given) and one question set."""
    query = response_params.parse_metrics_query(request.args)
    until = query.until or clock.now()
    since = query.since or max(until - timedelta(days=DEFAULT_METRICS_DAYS), EARLIEST_MOMENT)
    question_set = _question_set(query.trend)
    filters = InsightFilters(
        start=since,
        # Delighted's `until` is inclusive, to the second.
        end=until + timedelta(seconds=1),
        question_set_key=question_set.key if question_set else None,
    )
    return schemas.metrics_json(net_score(db.session(), filters))
