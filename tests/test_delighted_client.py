"""Delighted's official Python client (delighted 4.2.0) against the /v1 endpoints.

Teams leaving Delighted keep their code and point the client's base URL at us;
these tests do exactly that, over HTTP to a live server on a committed database,
with the client exactly as it comes: its own paths (no `.json`), headers, auth,
encoding, error classes and paging. Calls not shown here are in
test_delighted_client_more.py.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from surveys.db import db
from surveys.models import Customer, Purchase, Survey
from surveys.services.surveys.responses import submit_response
from tests.factories import make_api_key, make_customer, make_sent_survey, make_user

with warnings.catch_warnings():
    # The package warns on import that Delighted itself has closed: that is why we are here.
    warnings.simplefilter("ignore", FutureWarning)
    import delighted
    from delighted.errors import AuthenticationError, ResourceValidationError

UNHAPPY = {"expectations": "short", "recommend": "3", "one_thing": "The box arrived crushed."}


@pytest.fixture
def server(committed_app, live_server) -> str:
    return live_server(committed_app)


@pytest.fixture
def api_key(committed_app) -> str:
    with committed_app.app_context():
        session = db.session()
        _key, raw = make_api_key(session, "delighted client")
        session.commit()
    return raw


@pytest.fixture
def client(server, api_key) -> delighted.Client:
    # With the slash: the client joins `people` to it with urljoin, which drops a last
    # segment not ended by one (`…/v1` + `people` is `…/people`).
    return delighted.Client(api_key=api_key, api_base_url=f"{server}/v1/")


def rows(app, statement):
    with app.app_context():
        return db.session().execute(statement).all()


def test_person_created_by_the_client_is_a_purchase_with_a_survey(committed_app, client):
    person = delighted.Person.create(
        client=client,
        email="Ana@Example.com",
        name="Ana Diaz",
        delay=60,
        properties={"order_id": "A-1001", "Plan": "basic"},
    )

    assert (person.email, person.name, person.properties) == (
        "ana@example.com",
        "Ana Diaz",
        {"order_id": "A-1001", "Plan": "basic"},
    )
    assert person.survey_scheduled_at >= person.created_at + 60
    assert rows(committed_app, select(Purchase.order_id, Purchase.source)) == [
        ("A-1001", "delighted")
    ]
    assert rows(committed_app, select(Survey.status)) == [("scheduled",)]


def test_the_client_raises_its_own_errors_for_a_bad_key_and_a_bad_field(committed_app, client):
    stranger = delighted.Client(api_key="h2h_not-a-key", api_base_url=client.api_base_url)

    with pytest.raises(AuthenticationError):
        delighted.Unsubscribe.all(client=stranger)
    with pytest.raises(ResourceValidationError) as refused:
        delighted.Person.create(client=client, email="not-an-email")
    with pytest.raises(ResourceValidationError) as crafted:
        delighted.Person.create(client=client, email="ana@example.com", name="Ana\x00")

    assert list(json.loads(refused.value.response.body)["errors"]) == ["email"]
    assert list(json.loads(crafted.value.response.body)["errors"]) == ["name"]
    assert rows(committed_app, select(Customer.id)) == []


def test_unsubscribes_and_bounces_list_through_the_client(committed_app, client):
    created = delighted.Unsubscribe.create(client=client, person_email="un@example.com")

    unsubscribes = delighted.Unsubscribe.all(client=client, per_page=10, page=1)
    bounces = delighted.Bounce.all(client=client)

    assert created == {"ok": True}
    assert [item.email for item in unsubscribes] == ["un@example.com"]
    assert bounces == []


@pytest.fixture
def answered(committed_app) -> datetime:
    """One unhappy answer, submitted an hour ago; returns when."""
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with committed_app.app_context():
        session = db.session()
        make_user(session, role="admin")
        customer = make_customer(session, email="bo@example.com", name="Bo Lind")
        survey, _token = make_sent_survey(session, customer, sent_at=at - timedelta(hours=1))
        submit_response(session, survey, UNHAPPY, now=at)
        session.commit()
    return at


def test_survey_responses_through_the_client_with_datetimes_and_expanded_people(client, answered):
    # The client writes datetimes as Unix seconds; the latest one it can write is far
    # past anything we hold, and reads as no upper bound.
    found = delighted.SurveyResponse.all(
        client=client,
        since=answered - timedelta(minutes=1),
        until=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        expand=["person"],
        per_page=100,
    )
    none_since = delighted.SurveyResponse.all(client=client, since=answered + timedelta(seconds=1))

    assert [(item.score, item.comment) for item in found] == [(3, "The box arrived crushed.")]
    assert isinstance(found[0].person, delighted.Person)
    assert (found[0].person.email, found[0].person.name) == ("bo@example.com", "Bo Lind")
    assert none_since == []
