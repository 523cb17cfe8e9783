"""The case JSON as a conversation: `timeline`, `reopened`, `waiting_on`, and the list's
`?waiting_on=` and `?q=` filters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from surveys.models import CaseEvent
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_case, make_customer, make_purchase, make_user

T = TEST_START


@pytest.fixture
def auth(session):
    _key, raw = make_api_key(session, name="helpdesk")
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def owner(session):
    return make_user(session, email="olivia@shop.test", name="Olivia Owner")


def say(case, kind: str, at, body: str = "words", by=None, data=None) -> None:
    case.events.append(CaseEvent(kind=kind, body=body, created_at=at, actor_user=by, data=data))


def get(client, auth, path: str, **query):
    return client.get(path, headers=auth, query_string=query)


def test_a_reopened_case_shows_its_conversation_and_waits_on_its_owner(
    client, session, auth, owner
):
    case = make_case(session, owner=owner, status="acknowledged", now=T)
    say(case, "reply", T + timedelta(hours=1), "A new keyboard leaves today.", by=owner)
    say(case, "reopened", T + timedelta(days=3), "Did the fix work? No")
    say(
        case,
        "unverified_message",
        T + timedelta(days=3, hours=1),
        "Win a prize",
        data={"from": "x@spam.example"},
    )
    session.commit()

    body = get(client, auth, f"/api/v1/cases/{case.id}").get_json()

    assert body["waiting_on"] == "owner"
    assert body["reopened"] == 1
    assert [(e["kind"], e["author"]) for e in body["timeline"]] == [
        ("survey_answers", "Ana Diaz"),
        ("opened", "Heart to Heart"),
        ("acknowledged", "Olivia Owner"),
        ("reply", "Olivia Owner"),
        ("reopened", "Ana Diaz"),
        ("unverified_message", "x@spam.example"),
    ]
    assert body["timeline"][4] == {
        "kind": "reopened",
        "author": "Ana Diaz",
        "body": "Did the fix work? No",
        "created_at": "2026-11-26T09:00:00Z",
    }


def test_a_closed_case_waits_on_nobody(client, session, auth, owner):
    case = make_case(session, owner=owner, status="closed", now=T)
    session.commit()

    body = get(client, auth, f"/api/v1/cases/{case.id}").get_json()

    assert body["waiting_on"] is None and body["reopened"] == 0


@pytest.fixture
def three_cases(session, owner):
    ana = make_customer(session, name="Ana Diaz", email="ana@example.com")
    ben = make_customer(session, name="Ben Ode", email="ben@example.org")
    cleo = make_customer(session, name="Cleo 100% Real", email="cleo@example.net")
    new = make_case(session, owner=owner, customer=ana, now=T)
    answered = make_case(
        session,
        owner=owner,
        customer=ben,
        status="acknowledged",
        now=T + timedelta(minutes=1),
        purchase=make_purchase(session, ben, order_id="SHOP-77"),
    )
    say(answered, "reply", T + timedelta(hours=1), by=owner)
    resolved = make_case(session, owner=owner, customer=cleo, status="resolved", now=T)
    session.commit()
    return {"new": new.id, "answered": answered.id, "resolved": resolved.id}


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"waiting_on": "owner"}, ["new"]),
        ({"waiting_on": "customer"}, ["answered", "resolved"]),
        ({"waiting_on": ""}, ["answered", "new", "resolved"]),
        ({"q": "ANA@"}, ["new"]),
        ({"q": "ode"}, ["answered"]),
        ({"q": "shop-77"}, ["answered"]),
        ({"q": "100%"}, ["resolved"]),
        ({"q": "%"}, ["resolved"]),
        ({"q": "nobody"}, []),
        ({"q": "example", "waiting_on": "customer", "status": "resolved"}, ["resolved"]),
    ],
)
def test_the_list_filters_by_whose_turn_it_is_and_by_a_search(
    client, auth, three_cases, query, expected
):
    response = get(client, auth, "/api/v1/cases", **query)

    assert response.status_code == 200
    ids = {case["id"] for case in response.get_json()["items"]}
    assert ids == {three_cases[name] for name in expected}


@pytest.mark.parametrize(
    "query, field",
    [
        ({"waiting_on": "nobody"}, "waiting_on"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_a_filter_that_does_not_fit_is_refused_with_422(client, auth, three_cases, query, field):
    response = get(client, auth, "/api/v1/cases", **query)

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]
