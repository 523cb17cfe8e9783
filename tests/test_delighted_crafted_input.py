"""Crafted input through the Delighted-compatible endpoints (issue 8, item 3).

Each answers a 4xx in Delighted's error shape and changes nothing, on SQLite and
PostgreSQL, where a NUL byte, a lone surrogate or a far-future `until` used to
surface as a 500.
"""

from __future__ import annotations

import copy

import pytest

from tests.inbound import (
    LONE_SURROGATE,
    NOTHING,
    NUL,
    assert_refused_in_delighted_shape,
    auth,
    nested_json,
    raw_json,
    row_counts,
)

__all__ = ["auth"]  # a fixture


# --- POST /v1/people.json -------------------------------------------------------------------


PERSON = {"email": "ana@example.com", "name": "Ana Diaz", "properties": {"order_id": "A-1"}}


@pytest.mark.parametrize("bad", [LONE_SURROGATE, NUL], ids=["lone surrogate", "NUL"])
@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("email", lambda body, bad: body.update(email=f"ana{bad}@example.com")),
        ("name", lambda body, bad: body.update(name=f"Ana{bad}")),
        ("properties.order_id", lambda body, bad: body["properties"].update(order_id=f"A{bad}")),
        ("properties.Plan", lambda body, bad: body["properties"].update(Plan=f"basic{bad}")),
        ("properties", lambda body, bad: body["properties"].update({f"Pl{bad}an": "basic"})),
    ],
)
def test_unstorable_text_in_a_json_person_is_refused(
    client, auth, session, clock, field, change, bad
):
    body = copy.deepcopy(PERSON)
    change(body, bad)

    response = client.post(
        "/v1/people.json", data=raw_json(body), content_type="application/json", headers=auth
    )

    assert_refused_in_delighted_shape(response, 422, field)
    assert row_counts(session) == NOTHING


@pytest.mark.parametrize(
    ("field", "form"),
    [
        ("email", {"email": "ana\x00@example.com"}),
        ("name", {"email": "ana@example.com", "name": "Ana\x00"}),
        ("properties.order_id", {"email": "ana@example.com", "properties[order_id]": "A\x00"}),
        ("properties.Plan", {"email": "ana@example.com", "properties[Plan]": "basic\x00"}),
    ],
)
def test_a_nul_byte_in_a_form_person_is_refused(client, auth, session, clock, field, form):
    response = client.post("/v1/people.json", data=form, headers=auth)

    assert_refused_in_delighted_shape(response, 422, field)
    assert row_counts(session) == NOTHING


@pytest.mark.parametrize("depth", [100, 900, 50_000])
def test_a_person_nested_too_deeply_answers_400(client, auth, session, clock, depth):
    body = '{"email": "ana@example.com", "properties": ' + nested_json(depth) + "}"

    response = client.post(
        "/v1/people.json", data=body, content_type="application/json", headers=auth
    )

    assert_refused_in_delighted_shape(response, 400)
    assert row_counts(session) == NOTHING


def test_nan_in_a_person_is_refused(client, auth, session, clock):
    body = b'{"email": "ana@example.com", "properties": {"score": NaN}}'

    response = client.post(
        "/v1/people.json", data=body, content_type="application/json", headers=auth
    )

    assert response.status_code in (400, 422)
    assert row_counts(session) == NOTHING


def test_unsubscribing_an_address_with_a_nul_byte_is_refused(client, auth, session, clock):
    for body in (
        {"person_email": "ana\x00@example.com"},
        {"person_email": f"ana{LONE_SURROGATE}@x.co"},
    ):
        response = client.post(
            "/v1/unsubscribes.json",
            data=raw_json(body),
            content_type="application/json",
            headers=auth,
        )
        assert_refused_in_delighted_shape(response, 422, "person_email")
    assert row_counts(session) == NOTHING


# --- the lists: far-future and absurd filters -----------------------------------------------

LISTS = ("/v1/survey_responses.json", "/v1/unsubscribes.json", "/v1/bounces.json")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "query",
    [
        "until=253402300799",
        "until=99999999999999999999999999999999",
        f"since=-{10**30}",
        "since=0&until=253402300800",
    ],
)
def test_a_filter_past_what_we_store_reads_as_no_bound(client, auth, session, clock, path, query):
    client.post("/v1/unsubscribes.json", json={"person_email": "un@example.com"}, headers=auth)

    everything = client.get(path, headers=auth)
    response = client.get(f"{path}?{query}", headers=auth)

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == everything.get_json()


@pytest.mark.parametrize("path", LISTS)
def test_a_since_past_what_we_store_finds_nothing(client, auth, session, clock, path):
    client.post("/v1/unsubscribes.json", json={"person_email": "un@example.com"}, headers=auth)

    response = client.get(f"{path}?since={10**30}", headers=auth)

    assert (response.status_code, response.get_json()) == (200, [])


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("page", str(10**30)),
        ("page", "-5"),
        ("per_page", "-5"),
        ("per_page", str(10**30)),
        ("since", "1" * 5000),
        ("until", "1e9"),
    ],
)
def test_absurd_list_parameters_answer_422_naming_them(client, auth, path, field, value):
    response = client.get(f"{path}?{field}={value}", headers=auth)

    assert_refused_in_delighted_shape(response, 422, field)


def test_a_nul_byte_in_the_person_filter_answers_422(client, auth):
    response = client.get("/v1/survey_responses.json?person_email=ana%00@example.com", headers=auth)

    assert_refused_in_delighted_shape(response, 422, "person_email")
