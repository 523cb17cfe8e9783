"""Delighted's official Python client (delighted 4.2.0) on the rest of Delighted's API.

People listed a page at a time and deleted; pending survey requests withdrawn;
survey responses recorded, read and annotated; metrics; Autopilot; and the
rate limit the client waits out on its own. Over HTTP to a live server, the
client exactly as it comes, base URL `BASE_URL/v1/`.
"""

from __future__ import annotations

import json
import time
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from surveys.db import db
from surveys.models import (
    AuditEntry,
    AutopilotMembership,
    Case,
    Customer,
    OutboxMessage,
    Response,
    ResponseNote,
    Survey,
)
from surveys.services.surveys.responses import submit_response
from tests.factories import make_api_key, make_customer, make_sent_survey, make_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import delighted
    from delighted.errors import (
        AuthenticationError,
        GeneralAPIError,
        ResourceValidationError,
        TooManyRequestsError,
    )

HAPPY = {"expectations": "exceeding", "recommend": "10", "one_thing": "Nothing, all good."}
UNHAPPY = {"expectations": "short", "recommend": "3", "one_thing": "The box arrived crushed."}


@pytest.fixture
def keyed(committed_app) -> tuple[int, str]:
    """An API key's id and raw value, committed."""
    with committed_app.app_context():
        session = db.session()
        key, raw = make_api_key(session, "delighted client")
        make_user(session, role="admin")
        session.commit()
        return key.id, raw


@pytest.fixture
def client(committed_app, live_server, keyed) -> delighted.Client:
    server = live_server(committed_app)
    return delighted.Client(api_key=keyed[1], api_base_url=f"{server}/v1/")


def rows(app, statement):
    with app.app_context():
        return db.session().execute(statement).all()


def people(app, *emails: str) -> list[int]:
    with app.app_context():
        session = db.session()
        made = [make_customer(session, email=email, name=None).id for email in emails]
        session.commit()
        return made


def answered(app, email: str, answers: dict, at: datetime) -> int:
    """A response of `email` submitted at `at`; returns its id."""
    with app.app_context():
        session = db.session()
        customer = make_customer(session, email=email, name="Bo Lind")
        survey, _token = make_sent_survey(session, customer, sent_at=at - timedelta(hours=1))
        response = submit_response(session, survey, answers, now=at)
        session.commit()
        return response.id


# --- people ---------------------------------------------------------------------------------


def test_auto_paging_walks_every_person_once_over_several_pages(committed_app, client):
    emails = [f"p{n}@example.com" for n in range(7)]
    people(committed_app, *emails)

    walked = [
        person.email
        for person in delighted.Person.list(client=client, per_page=3).auto_paging_iter()
    ]
    first_page = delighted.Person.all(client=client, per_page=3)

    assert walked == emails
    assert [person.email for person in first_page] == emails[:3]
    assert isinstance(first_page[0], delighted.Person)
    assert first_page[0].last_sent_at is None


def test_deleting_a_person_erases_them_on_the_audit_log_as_the_key(committed_app, client, keyed):
    ana, bo = people(committed_app, "ana@example.com", "bo@example.com")

    by_email = delighted.Person.delete(client=client, email="ana@example.com")
    by_id = delighted.Person.delete(client=client, id=bo)
    with pytest.raises(GeneralAPIError) as unknown:
        delighted.Person.delete(client=client, email="nobody@example.com")

    assert by_email == by_id == {"ok": True}
    assert unknown.value.response.status_code == 404
    erased = rows(committed_app, select(Customer.id, Customer.email).order_by(Customer.id))
    assert [customer_id for customer_id, _ in erased] == [ana, bo]
    assert all(email.endswith("@erased.invalid") for _, email in erased)
    audit = rows(committed_app, select(AuditEntry.action, AuditEntry.actor_api_key_id))
    assert audit == [("customer.erased", keyed[0]), ("customer.erased", keyed[0])]
    assert delighted.Person.all(client=client) == []


def test_withdrawing_pending_requests_cancels_them_without_suppressing(committed_app, client):
    delighted.Person.create(client=client, email="ana@example.com", delay=3600)

    result = delighted.SurveyRequest.delete_pending(client=client, person_email="ana@example.com")

    assert result == {"ok": True}
    assert rows(committed_app, select(Survey.status)) == [("cancelled",)]
    assert rows(committed_app, select(OutboxMessage.status)) == [("cancelled",)]
    assert rows(committed_app, select(Customer.suppressed_at)) == [(None,)]
    # Not suppressed: the next purchase is surveyed as usual.
    later = delighted.Person.create(
        client=client, email="ana@example.com", properties={"order_id": "A-2"}
    )
    assert later.survey_scheduled_at is not None


# --- survey responses -----------------------------------------------------------------------


def test_a_response_recorded_through_the_client_opens_a_case_when_negative(committed_app, client):
    (ana,) = people(committed_app, "ana@example.com")
    given_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)

    unhappy = delighted.SurveyResponse.create(
        client=client,
        person=str(ana),
        score=2,
        comment="Nobody called back.",
        # A POST body is JSON: the client sends Unix seconds as given.
        created_at=int(given_at.timestamp()),
    )
    happy = delighted.SurveyResponse.create(client=client, person=str(ana), score=10)

    assert (unhappy.score, unhappy.comment) == (2, "Nobody called back.")
    assert unhappy.survey_type == "nps"
    assert unhappy.created_at == int(given_at.timestamp())
    assert unhappy.permalink.endswith(f"/cases/{rows(committed_app, select(Case.id))[0][0]}")
    assert (happy.score, happy.comment) == (10, None)
    assert rows(committed_app, select(Case.response_id)) == [(int(unhappy.id),)]
    with pytest.raises(ResourceValidationError) as refused:
        delighted.SurveyResponse.create(client=client, person=str(ana), score=11)
    assert list(json.loads(refused.value.response.body)["errors"]) == ["score"]


def test_retrieve_then_save_keeps_notes_and_tags_and_moves_updated_at(committed_app, client):
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    response_id = answered(committed_app, "bo@example.com", UNHAPPY, at)

    found = delighted.SurveyResponse.retrieve(str(response_id), client=client, expand=["person"])
    found.notes = [*found.notes, "Called Bo; replacement sent."]
    found.tags = ["shipping", "called"]
    saved = found.save(client=client)
    again = delighted.SurveyResponse.retrieve(str(response_id), client=client)
    again.notes = [*again.notes, {"text": "Bo confirmed it arrived."}]
    twice = again.save(client=client)

    assert isinstance(found.person, delighted.Person)
    assert found.person.email == "bo@example.com"
    assert saved.tags == ["shipping", "called"]
    assert [note["text"] for note in twice.notes] == [
        "Called Bo; replacement sent.",
        "Bo confirmed it arrived.",
    ]
    assert twice.updated_at > twice.created_at == int(at.timestamp())
    assert len(rows(committed_app, select(ResponseNote.id))) == 2
    # What the customer answered is theirs.
    twice.score = 9
    with pytest.raises(ResourceValidationError) as refused:
        twice.save(client=client)
    assert list(json.loads(refused.value.response.body)["errors"]) == ["score"]
    assert rows(committed_app, select(Response.tags)) == [(["shipping", "called"],)]


def test_responses_list_by_update_time_and_refuses_unknown_filters(committed_app, client):
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    first = answered(committed_app, "bo@example.com", UNHAPPY, at)
    answered(committed_app, "cy@example.com", HAPPY, at)
    response = delighted.SurveyResponse.retrieve(str(first), client=client)
    response.tags = ["called"]
    response.save(client=client)

    updated = delighted.SurveyResponse.all(
        client=client, updated_since=datetime.now(UTC) - timedelta(hours=1)
    )
    by_set = delighted.SurveyResponse.all(client=client, trend="heart-to-heart")
    with pytest.raises(ResourceValidationError) as typo:
        delighted.SurveyResponse.all(client=client, sinse=at)
    with pytest.raises(ResourceValidationError) as no_set:
        delighted.SurveyResponse.all(client=client, trend="no-such-set")

    assert [item.id for item in updated] == [str(first)]
    assert len(by_set) == 2
    assert json.loads(typo.value.response.body)["errors"] == {
        "sinse": ["is not a filter of this list"]
    }
    assert list(json.loads(no_set.value.response.body)["errors"]) == ["trend"]


def test_metrics_count_the_window_with_the_dashboards_formula(committed_app, client):
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    for n, answers in enumerate([HAPPY, HAPPY, UNHAPPY, {**HAPPY, "recommend": "7"}]):
        answered(committed_app, f"p{n}@example.com", answers, at)
    answered(committed_app, "old@example.com", UNHAPPY, at - timedelta(days=60))

    metrics = delighted.Metrics.retrieve(client=client)
    everything = delighted.Metrics.retrieve(client=client, since=at - timedelta(days=90))

    assert dict(metrics) == {
        "nps": 25,
        "promoter_count": 2,
        "promoter_percent": 50,
        "passive_count": 1,
        "passive_percent": 25,
        "detractor_count": 1,
        "detractor_percent": 25,
        "response_count": 4,
    }
    assert (everything.response_count, everything.nps) == (5, 0)


# --- Autopilot ------------------------------------------------------------------------------


def test_autopilot_memberships_through_the_client(committed_app, client):
    config = delighted.AutopilotConfiguration.retrieve("email", client=client)
    members = delighted.AutopilotMembership.forEmail()

    joined = members.create(
        client=client, person_email="ana@example.com", properties={"Plan": "pro", "Seats": 3}
    )
    members.create(client=client, person_email="bo@example.com")
    listed = list(members.list(client=client, per_page=1).auto_paging_iter())
    left = members.delete(client=client, person_email="ana@example.com")
    remaining = list(members.list(client=client).auto_paging_iter())
    with pytest.raises(ResourceValidationError) as sms:
        delighted.AutopilotMembership.forSms().create(client=client, person_phone_number="+1555")

    assert (config.platform_id, config.active, config.frequency) == ("email", True, 90 * 86400)
    assert joined["person"]["email"] == "ana@example.com"
    assert joined["properties"] == {"Plan": "pro", "Seats": "3"}
    assert [member["person"]["email"] for member in listed] == ["ana@example.com", "bo@example.com"]
    assert listed[0]["next_survey_request"]["properties"] == {"Plan": "pro", "Seats": "3"}
    assert left["person"]["email"] == "ana@example.com"
    assert [member["person"]["email"] for member in remaining] == ["bo@example.com"]
    assert "email only" in json.loads(sms.value.response.body)["errors"]["platform"][0]
    assert len(rows(committed_app, select(AutopilotMembership.id))) == 1


# --- errors and the rate limit --------------------------------------------------------------


def test_the_clients_error_classes_for_401_422_and_429(committed_app, client):
    committed_app.config["API_RATE_LIMIT"] = "2 per 10 seconds"
    stranger = delighted.Client(api_key="h2h_not-a-key", api_base_url=client.api_base_url)

    with pytest.raises(AuthenticationError):
        delighted.Metrics.retrieve(client=stranger)
    with pytest.raises(ResourceValidationError):
        delighted.Metrics.retrieve(client=client, since="yesterday")
    delighted.Bounce.all(client=client)
    with pytest.raises(TooManyRequestsError) as limited:
        delighted.Bounce.all(client=client)

    assert 1 <= limited.value.retry_after <= 10
    assert json.loads(limited.value.response.body)["status"] == 429
    assert limited.value.response.headers["X-RateLimit-Limit"] == "2"
    assert limited.value.response.headers["X-RateLimit-Remaining"] == "0"


def test_auto_paging_waits_out_the_rate_limit_on_its_own(committed_app, client):
    emails = [f"p{n}@example.com" for n in range(5)]
    people(committed_app, *emails)
    committed_app.config["API_RATE_LIMIT"] = "2 per 1 second"
    started = time.monotonic()

    walked = delighted.Person.list(client=client, per_page=1).auto_paging_iter(
        auto_handle_rate_limits=True
    )

    assert [person.email for person in walked] == emails
    assert time.monotonic() - started >= 1  # it was held back, and waited


def test_person_properties_are_kept_and_come_back_on_the_response(committed_app, client):
    """Person.create's properties are stored on the purchase (routing, dashboard, CSV use
    them) and a response shows them as `person_properties`; over the limits is a 422."""
    person = delighted.Person.create(
        client=client,
        email="ana@example.com",
        properties={"order_id": "D-1", "plan": "gold", "seats": 12},
    )
    with committed_app.app_context():
        session = db.session()
        purchase = session.scalars(select(Survey)).one().purchase
        assert purchase.properties == {"plan": "gold", "seats": "12"}
        submit_response(
            session, session.scalars(select(Survey)).one(), HAPPY, now=datetime.now(UTC)
        )
        session.commit()

    [response] = delighted.SurveyResponse.all(client=client)

    assert person.email == "ana@example.com"
    assert response.person_properties == {"plan": "gold", "seats": "12", "order_id": "D-1"}
    with pytest.raises(ResourceValidationError) as refused:
        delighted.Person.create(
            client=client,
            email="ben@example.com",
            properties={"order_id": "D-2", **{f"p{n}": "x" for n in range(51)}},
        )
    assert list(json.loads(refused.value.response.body)["errors"]) == ["properties"]
