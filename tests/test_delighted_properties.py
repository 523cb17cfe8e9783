"""Any request to the Delighted-compatible endpoints gets a 2xx or a 4xx, never a 5xx.

Hypothesis builds the requests: people posted as JSON and as form fields, a few
of their fields replaced by hostile values, and list query strings of every
kind. A refused request (and every GET) must leave the rows as they were.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.services.surveys.responses import submit_response
from tests.factories import make_customer, make_sent_survey
from tests.inbound import (
    HOSTILE,
    any_json,
    auth,
    json_body,
    row_counts,
    sendable_text,
    text_changes,
    weighted,
    with_changes,
)

__all__ = ["auth"]  # a fixture

PERSON = {
    "email": "ana@example.com",
    "name": "Ana Diaz",
    "delay": 60,
    "send": True,
    "channel": "email",
    "properties": {"order_id": "A-1001", "Plan": "basic"},
}
PERSON_FIELDS = [
    ("email",),
    ("name",),
    ("delay",),
    ("send",),
    ("channel",),
    ("properties",),
    ("properties", "order_id"),
    ("properties", "Plan"),
    ("phone_number",),
]
FORM = {
    "email": "ana@example.com",
    "name": "Ana Diaz",
    "delay": "60",
    "send": "true",
    "properties[order_id]": "A-1001",
    "properties[Plan]": "basic",
}
FORM_FIELDS = [(field,) for field in [*FORM, "channel", "properties"]]
LISTS = [
    "/v1/survey_responses.json",
    "/v1/unsubscribes.json",
    "/v1/bounces.json",
    "/v1/people",
    "/v1/metrics",
    "/v1/autopilot/email/memberships",
]
LIST_FIELDS = ["since", "until", "page", "per_page", "order", "person_email", "expand[]"]
# Where a number meets a limit: of Delighted's paging, of our years, of Python's datetime.
PAGE_EDGES = [0, -1, 1, 100, 101, 10**6, 10**6 + 1, 2**31, 2**63, 10**30]
TIME_EDGES = [-(10**30), -2208988800, 0, 1795424400, 32503680000, 253402300799, 253402300800]


json_people = weighted((3, with_changes(PERSON, PERSON_FIELDS)), (1, any_json))
form_people = with_changes(FORM, FORM_FIELDS, text_changes)


def numbers(edges: list[int]):
    return st.one_of(st.sampled_from(edges), st.integers()).map(str)


list_queries = weighted(
    (
        1,
        st.fixed_dictionaries(
            {}, optional={"since": numbers(TIME_EDGES), "until": numbers(TIME_EDGES)}
        ),
    ),
    (
        2,
        st.dictionaries(
            st.sampled_from(LIST_FIELDS),
            st.one_of(numbers(PAGE_EDGES), numbers(TIME_EDGES), sendable_text),
            max_size=3,
        ),
    ),
)


def assert_held(response, before: dict, after: dict) -> None:
    """A 2xx or a 4xx in Delighted's shape; a 4xx changed nothing."""
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/json"
        assert response.get_json()["status"] == response.status_code
        assert after == before


@HOSTILE
@given(person=json_people)
def test_any_json_person_gets_an_answer_and_a_refusal_changes_nothing(
    client, auth, session, clock, person
):
    before = row_counts(session)

    response = client.post(
        "/v1/people.json", data=json_body(person), content_type="application/json", headers=auth
    )

    assert_held(response, before, row_counts(session))


@HOSTILE
@given(form=form_people)
def test_any_form_person_gets_an_answer_and_a_refusal_changes_nothing(
    client, auth, session, clock, form
):
    before = row_counts(session)

    response = client.post("/v1/people.json", data=form, headers=auth)

    assert_held(response, before, row_counts(session))


@HOSTILE
@given(path=st.sampled_from(LISTS), query=list_queries)
def test_any_list_query_gets_an_answer_and_changes_nothing(
    client, auth, session, clock, path, query
):
    before = row_counts(session)

    response = client.get(f"{path}?{urlencode(query)}", headers=auth)

    assert response.status_code in (200, 422), response.get_data(as_text=True)
    assert row_counts(session) == before


# --- survey responses and Autopilot ---------------------------------------------------------

RECORDED = {
    "person": "PERSON",
    "score": 3,
    "comment": "Nobody called back.",
    "created_at": 1795424400,
    "person_properties": {"order_id": "A-1001", "Plan": "basic"},
}
RECORDED_FIELDS = [
    ("person",),
    ("score",),
    ("comment",),
    ("created_at",),
    ("person_properties",),
    ("person_properties", "Plan"),
]
SAVED = {
    "score": 3,
    "comment": "The box arrived crushed.",
    "notes": ["Called them back.", {"text": "Replacement sent."}],
    "tags": ["shipping"],
    "person": {"email": "bo@example.com"},
}
SAVED_FIELDS = [("score",), ("comment",), ("notes",), ("notes", 0), ("tags",), ("tags", 0)]
MEMBER = {"person_email": "ana@example.com", "properties": {"Plan": "pro", "Seats": "3"}}
MEMBER_FIELDS = [("person_email",), ("person_id",), ("properties",), ("properties", "Plan")]


@pytest.fixture
def answered_response(session, clock) -> tuple[int, int]:
    """A customer's id, and the id of their unhappy response."""
    customer = make_customer(session, email="bo@example.com")
    survey, _token = make_sent_survey(session, customer, sent_at=clock.now())
    response = submit_response(
        session,
        survey,
        {"expectations": "short", "recommend": "3", "one_thing": "The box arrived crushed."},
        now=clock.now(),
    )
    session.commit()
    return customer.id, response.id


def _with_person(document, person_id: int):
    if isinstance(document, dict) and document.get("person") == "PERSON":
        return {**document, "person": str(person_id)}
    return document


@HOSTILE
@given(body=weighted((3, with_changes(RECORDED, RECORDED_FIELDS)), (1, any_json)))
def test_any_recorded_response_gets_an_answer_and_a_refusal_changes_nothing(
    client, auth, session, clock, answered_response, body
):
    before = row_counts(session)

    response = client.post(
        "/v1/survey_responses",
        data=json_body(_with_person(body, answered_response[0])),
        content_type="application/json",
        headers=auth,
    )

    assert_held(response, before, row_counts(session))


@HOSTILE
@given(body=weighted((3, with_changes(SAVED, SAVED_FIELDS)), (1, any_json)))
def test_any_saved_response_gets_an_answer_and_a_refusal_changes_nothing(
    client, auth, session, clock, answered_response, body
):
    before = row_counts(session)

    response = client.put(
        f"/v1/survey_responses/{answered_response[1]}",
        data=json_body(body),
        content_type="application/json",
        headers=auth,
    )

    assert_held(response, before, row_counts(session))


@HOSTILE
@given(body=weighted((3, with_changes(MEMBER, MEMBER_FIELDS)), (1, any_json)))
def test_any_autopilot_member_gets_an_answer_and_a_refusal_changes_nothing(
    client, auth, session, clock, body
):
    before = row_counts(session)

    response = client.post(
        "/v1/autopilot/email/memberships",
        data=json_body(body),
        content_type="application/json",
        headers=auth,
    )

    assert_held(response, before, row_counts(session))
