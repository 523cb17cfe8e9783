"""The Delighted-compatible endpoints under /v1."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from flask import Blueprint
from sqlalchemy import func, select

from surveys.api.domain_errors import answer_domain_errors
from surveys.auth import csrf
from surveys.delighted import views as delighted_views
from surveys.models import Customer, OutboxMessage, Purchase, Survey
from surveys.services.email_events import record_email_events
from surveys.services.purchases import PurchaseRejected
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import set_setting
from surveys.services.surveys.responses import submit_response
from surveys.services.surveys.scheduling import schedule_survey
from surveys.webhooks.sendgrid import events_from_batch
from tests.conftest import TEST_START, make_test_app
from tests.factories import make_api_key, make_customer, make_purchase, make_sent_survey, make_user

NOW = int(TEST_START.timestamp())
HAPPY = {
    "expectations": "exceeding",
    "time_money": "yes",
    "recommend": "9",
    "one_thing": "Nothing, honestly.",
    "preferences": "",
}
UNHAPPY = {
    "expectations": "short",
    "time_money": "no",
    "recommend": "3",
    "one_thing": "The box arrived crushed.",
}


def basic(user: str, password: str | None = "") -> dict[str, str]:
    """HTTP Basic credentials; `password=None` encodes the key alone, as old clients did."""
    raw = user if password is None else f"{user}:{password}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


@pytest.fixture
def key(session) -> str:
    _key, raw = make_api_key(session, "delighted migration")
    session.commit()
    return raw


@pytest.fixture
def auth(key) -> dict[str, str]:
    return basic(key)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def post_person(client, auth, **body):
    return client.post("/v1/people.json", json=body, headers=auth)


def only(session, model):
    return session.scalars(select(model)).one()


# --- authentication -------------------------------------------------------------------------


def test_api_key_as_basic_user_name_is_accepted_with_or_without_the_colon(client, key, clock):
    with_colon = client.get("/v1/bounces.json", headers=basic(key))
    key_alone = client.get("/v1/bounces.json", headers=basic(key, password=None))

    assert (with_colon.status_code, key_alone.status_code) == (200, 200)
    assert with_colon.get_json() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("h2h_not-a-key"),
        {"Authorization": "Basic %%%not-base64"},
    ],
    ids=["missing", "wrong key", "garbled"],
)
def test_missing_or_wrong_credentials_answer_401_in_delighted_shape(client, key, session, headers):
    response = client.post("/v1/people.json", json={"email": "ana@example.com"}, headers=headers)

    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    body = response.get_json()
    assert (body["status"], body["message"]) == (401, "Unauthorized")
    assert count(session, Customer) == 0


def test_a_bearer_key_is_not_delighted_auth(client, key):
    response = client.get("/v1/unsubscribes.json", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 401


def test_every_v1_path_refuses_a_request_without_a_key_routed_or_not(client, app):
    examples = {"person_id": "email:ana@example.com", "person_email": "ana@example.com"}
    paths = [
        (method, rule.rule.replace("<int:response_id>", "1"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("delighted.")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    paths = [
        (
            method,
            path.replace("<person_id>", examples["person_id"]).replace(
                "<person_email>", examples["person_email"]
            ),
        )
        for method, path in paths
    ]
    # Every resource answers with and without `.json`; paths that lead nowhere are refused too.
    assert len(paths) == 40
    paths += [("GET", "/v1/nothing-here"), ("DELETE", "/v1/metrics"), ("GET", "/v1")]

    for method, path in paths:
        response = client.open(path, method=method, json={})
        assert response.status_code == 401, (method, path)
        assert response.get_json()["message"] == "Unauthorized", (method, path)


# --- POST /v1/people.json -------------------------------------------------------------------


def test_person_with_an_order_id_is_a_purchase_surveyed_like_the_api(client, auth, session, clock):
    response = post_person(
        client,
        auth,
        email="Ana@Example.com",
        name="Ana Diaz",
        properties={"order_id": "A-1001", "Plan": "basic"},
    )

    assert response.status_code == 200
    purchase = only(session, Purchase)
    survey = only(session, Survey)
    customer = only(session, Customer)
    assert (purchase.order_id, purchase.source, purchase.customer_id) == (
        "A-1001",
        "delighted",
        customer.id,
    )
    assert (survey.kind, survey.status, survey.purchase_id, survey.send_at) == (
        "purchase",
        "scheduled",
        purchase.id,
        TEST_START,
    )
    assert (customer.email, customer.name) == ("ana@example.com", "Ana Diaz")
    assert response.get_json() == {
        "id": str(customer.id),
        "email": "ana@example.com",
        "name": "Ana Diaz",
        "created_at": NOW,
        "survey_scheduled_at": NOW,
        "properties": {"order_id": "A-1001", "Plan": "basic"},
    }
    message = only(session, OutboxMessage)
    assert (message.template, message.survey_id, message.next_attempt_at) == (
        "survey",
        survey.id,
        TEST_START,
    )


def test_form_body_with_bracketed_properties_is_read_like_json(client, auth, session, clock):
    response = client.post(
        "/v1/people.json",
        headers=auth,
        data={
            "email": "bo@example.com",
            "name": "Bo Lind",
            "properties[order_id]": "B-7",
            "properties[Location]": "Oslo",
            "delay": "60",
        },
    )

    assert response.status_code == 200
    assert response.get_json()["properties"] == {"order_id": "B-7", "Location": "Oslo"}
    assert response.get_json()["survey_scheduled_at"] == NOW + 60
    purchase = only(session, Purchase)
    assert (purchase.order_id, purchase.customer.email) == ("B-7", "bo@example.com")


def test_repeated_order_id_creates_nothing_and_answers_the_same(client, auth, session, clock):
    first = post_person(client, auth, email="ana@example.com", properties={"order_id": "A-1"})
    clock.advance(minutes=5)
    again = post_person(
        client, auth, email="ana@example.com", name="Someone Else", properties={"order_id": "A-1"}
    )
    elsewhere = post_person(client, auth, email="other@example.com", properties={"order_id": "A-1"})

    assert (again.status_code, elsewhere.status_code) == (200, 200)
    assert again.get_json() == first.get_json()
    assert elsewhere.get_json()["email"] == "ana@example.com"
    assert [count(session, m) for m in (Customer, Purchase, Survey, OutboxMessage)] == [1, 1, 1, 1]
    assert only(session, Customer).name is None


def test_person_without_an_order_gets_a_manual_survey_right_away(client, auth, session, clock):
    response = post_person(client, auth, email="cy@example.com", name="Cy Young")

    assert response.status_code == 200
    survey = only(session, Survey)
    assert (survey.kind, survey.status, survey.purchase_id, survey.send_at) == (
        "manual",
        "scheduled",
        None,
        TEST_START,
    )
    assert survey.question_set.key == "heart-to-heart"
    assert count(session, Purchase) == 0
    assert only(session, OutboxMessage).survey_id == survey.id
    assert response.get_json()["survey_scheduled_at"] == NOW


def test_person_without_an_order_updates_a_known_customer(client, auth, session, clock):
    customer = make_customer(session, email="cy@example.com", name="C. Young")
    session.commit()

    response = post_person(client, auth, email="CY@example.com", name="Cy Young", send=False)

    assert response.get_json()["id"] == str(customer.id)
    assert session.get(Customer, customer.id).name == "Cy Young"
    assert count(session, Customer) == 1


def test_person_without_an_order_is_throttled_like_any_survey(client, auth, session, clock):
    customer = make_customer(session, email="cy@example.com")
    make_sent_survey(session, customer, sent_at=TEST_START - timedelta(days=3))
    session.commit()

    response = post_person(client, auth, email="cy@example.com")

    assert response.get_json()["survey_scheduled_at"] is None
    statuses = session.scalars(select(Survey.status).order_by(Survey.id)).all()
    assert statuses == ["sent", "throttled"]
    assert count(session, OutboxMessage) == 0


def test_send_false_records_the_person_without_surveying(client, auth, session, clock):
    response = post_person(client, auth, email="di@example.com", send=False)

    assert response.status_code == 200
    assert response.get_json()["survey_scheduled_at"] is None
    assert only(session, Customer).email == "di@example.com"
    assert [count(session, m) for m in (Survey, OutboxMessage)] == [0, 0]


def test_send_false_with_an_order_records_the_purchase_and_skips_its_survey(
    client, auth, session, clock
):
    response = client.post(
        "/v1/people.json",
        headers=auth,
        data={"email": "di@example.com", "send": "false", "properties[order_id]": "D-1"},
    )

    assert response.get_json()["survey_scheduled_at"] is None
    survey = only(session, Survey)
    assert (survey.status, survey.purchase_id) == ("skipped", only(session, Purchase).id)
    assert survey.status_reason == "the sender asked for no survey"
    assert count(session, OutboxMessage) == 0


def test_delay_moves_the_survey_and_its_email_later(client, auth, session, clock):
    response = post_person(client, auth, email="ed@example.com", delay=3600)

    assert response.get_json()["survey_scheduled_at"] == NOW + 3600
    assert only(session, Survey).send_at == TEST_START + timedelta(hours=1)
    assert only(session, OutboxMessage).next_attempt_at == TEST_START + timedelta(hours=1)


def test_delay_replaces_the_configured_survey_delay_for_an_order(client, auth, session, clock):
    set_setting(session, "survey_delay_minutes", 120)
    session.commit()

    post_person(client, auth, email="fa@example.com", properties={"order_id": "F-1"})
    post_person(client, auth, email="gu@example.com", delay=0, properties={"order_id": "G-1"})

    send_at = dict(
        session.execute(
            select(Purchase.order_id, Survey.send_at).join(
                Survey, Survey.purchase_id == Purchase.id
            )
        ).all()
    )
    assert send_at == {"F-1": TEST_START + timedelta(hours=2), "G-1": TEST_START}


def test_unsubscribed_person_is_recorded_but_not_surveyed(client, auth, session, clock):
    client.post("/v1/unsubscribes.json", json={"person_email": "ho@example.com"}, headers=auth)

    response = post_person(client, auth, email="ho@example.com", properties={"order_id": "H-1"})

    assert response.get_json()["survey_scheduled_at"] is None
    assert only(session, Survey).status == "suppressed"
    assert count(session, OutboxMessage) == 0


def test_bad_email_answers_422_naming_the_field_and_creates_nothing(client, auth, session):
    response = post_person(client, auth, email="not-an-email", properties={"order_id": "X-1"})

    assert response.status_code == 422
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert (body["status"], body["message"]) == (422, "Unprocessable Entity")
    assert list(body["errors"]) == ["email"]
    assert body["errors"]["email"][0].startswith("is not a valid email address")
    assert [count(session, m) for m in (Customer, Purchase, Survey)] == [0, 0, 0]


def test_a_purchase_the_service_refuses_answers_422_in_delighted_shape(template_database, tmp_path):
    # Nothing a Delighted client can send is refused by the purchase service today (it has no
    # purchase date or owner to get wrong), so the /v1 mapping is checked on a blueprint of its
    # own, answered by the same two pieces /v1 registers: no code of ours is replaced.
    probe = Blueprint("probe", __name__)

    @probe.post("/refused")
    def refused():
        raise PurchaseRejected({"owner_email": ["is not an active owner or admin"]})

    answer_domain_errors(probe, delighted_views.handle_problem)
    app = make_test_app(template_database.copy(), tmp_path)  # a fresh app takes a new blueprint
    csrf.exempt(probe)  # like /v1: Basic auth, no session cookie
    app.register_blueprint(probe)

    response = app.test_client().post("/refused")
    app.extensions["db"]["engine"].dispose()

    assert response.status_code == 422
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "status": 422,
        "message": "Unprocessable Entity",
        "detail": "Some fields are not valid: owner_email.",
        "errors": {"owner_email": ["is not an active owner or admin"]},
    }


def test_every_bad_field_is_named_at_once(client, auth, session):
    response = client.post(
        "/v1/people.json",
        headers=auth,
        data={
            "delay": "soon",
            "send": "maybe",
            "channel": "sms",
            "properties[order_id]": "x" * 129,
        },
    )

    assert response.status_code == 422
    assert sorted(response.get_json()["errors"]) == [
        "channel",
        "delay",
        "email",
        "properties.order_id",
        "send",
    ]


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("email=ana@example.com", "text/plain", 415),
        ('["a list"]', "application/json", 422),
    ],
    ids=["malformed json", "plain text", "json list"],
)
def test_a_body_that_cannot_be_read_answers_in_delighted_shape(
    client, auth, session, data, content_type, status
):
    response = client.post("/v1/people.json", data=data, content_type=content_type, headers=auth)

    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json()["status"] == status
    assert count(session, Customer) == 0


# --- GET /v1/survey_responses.json ----------------------------------------------------------


def answered(session, *, email: str, at, answers: dict, order_id: str | None = None):
    """A survey of this customer, answered at `at` (through the real submit)."""
    customer = make_customer(session, email=email, name=email.split("@")[0].title())
    purchase = make_purchase(session, customer, order_id=order_id) if order_id else None
    survey, _token = make_sent_survey(
        session, customer, purchase=purchase, sent_at=at - timedelta(hours=1)
    )
    response = submit_response(session, survey, answers, now=at)
    session.commit()
    return response


@pytest.fixture
def three_responses(session, clock):
    make_user(session, role="admin")  # the default owner of the unhappy one's case
    return [
        answered(
            session,
            email="ana@example.com",
            at=TEST_START - timedelta(hours=3),
            answers=HAPPY,
            order_id="A-1",
        ),
        answered(
            session,
            email="bo@example.com",
            at=TEST_START - timedelta(hours=2),
            answers=UNHAPPY,
            order_id="B-1",
        ),
        answered(
            session,
            email="cy@example.com",
            at=TEST_START - timedelta(hours=1),
            answers={"expectations": "meeting"},
        ),
    ]


def list_responses(client, auth, query: str = ""):
    response = client.get(f"/v1/survey_responses.json{query}", headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_survey_response_maps_recommend_to_score_and_one_thing_to_comment(
    client, auth, three_responses
):
    happy, unhappy, _ = three_responses

    first, second, _third = list_responses(client, auth)

    answers = {item["question"]["id"]: item for item in first["additional_answers"]}
    assert first == {
        "id": str(happy.id),
        "person": str(happy.customer_id),
        "survey_type": "nps",
        "score": 9,
        "comment": "Nothing, honestly.",
        "permalink": f"http://surveys.test/customers/{happy.customer_id}",
        "created_at": NOW - 3 * 3600,
        "updated_at": NOW - 3 * 3600,
        "person_properties": {"order_id": "A-1"},
        "notes": [],
        "tags": [],
        "additional_answers": [answers["expectations"], answers["time_money"]],
    }
    assert answers["expectations"]["value"] == {
        "free_response": None,
        "scale": None,
        "select_many": None,
        "select_one": {"id": "exceeding", "text": "Yes, you are exceeding them"},
    }
    assert answers["expectations"]["question"] == {
        "id": "expectations",
        "type": "select_one",
        "text": "Are we exceeding your expectations?",
    }
    # The unhappy one opened a case: its page is the response's home.
    assert (second["score"], second["comment"]) == (3, "The box arrived crushed.")
    assert second["permalink"].startswith("http://surveys.test/cases/")
    assert second["person"] == str(unhappy.customer_id)


def test_survey_response_without_a_score_or_order_says_so(client, auth, three_responses):
    third = list_responses(client, auth)[2]

    assert (third["score"], third["comment"], third["person_properties"]) == (None, None, None)
    assert [a["question"]["id"] for a in third["additional_answers"]] == ["expectations"]


def test_survey_responses_page_by_number_oldest_first(client, auth, three_responses):
    ids = [str(response.id) for response in three_responses]

    pages = [
        [item["id"] for item in list_responses(client, auth, f"?per_page=2&page={n}")]
        for n in (1, 2, 3)
    ]
    newest_first = [item["id"] for item in list_responses(client, auth, "?order=desc")]

    assert pages == [ids[:2], ids[2:], []]
    assert newest_first == ids[::-1]


def test_survey_responses_since_and_until_are_inclusive_unix_seconds(client, auth, three_responses):
    ids = [str(response.id) for response in three_responses]
    second = NOW - 2 * 3600

    since = list_responses(client, auth, f"?since={second}")
    until = list_responses(client, auth, f"?until={second}")
    both = list_responses(client, auth, f"?since={second}&until={second}")

    assert [item["id"] for item in since] == ids[1:]
    assert [item["id"] for item in until] == ids[:2]
    assert [item["id"] for item in both] == [ids[1]]


def test_survey_responses_filter_by_person_and_expand_them(client, auth, three_responses):
    items = list_responses(client, auth, "?person_email=BO@example.com&expand[]=person")

    assert len(items) == 1
    assert items[0]["person"] == {
        "id": str(three_responses[1].customer_id),
        "email": "bo@example.com",
        "name": "Bo",
        "created_at": items[0]["person"]["created_at"],
    }


@pytest.mark.parametrize(
    "query", ["?per_page=101", "?page=0", "?since=yesterday", "?order=sideways"]
)
def test_bad_list_parameters_answer_422_naming_them(client, auth, query):
    response = client.get(f"/v1/survey_responses.json{query}", headers=auth)

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [query[1:].split("=")[0]]


# --- unsubscribes and bounces ---------------------------------------------------------------


def test_unsubscribing_a_customer_cancels_their_pending_survey(client, auth, session, clock):
    customer = make_customer(session, email="ana@example.com")
    schedule_survey(
        session,
        customer=customer,
        kind="manual",
        question_set=get_question_set(session, "heart-to-heart"),
        now=clock.now(),
        send_at=clock.now() + timedelta(days=1),
    )
    session.commit()

    response = client.post(
        "/v1/unsubscribes.json", json={"person_email": "Ana@example.com"}, headers=auth
    )

    assert (response.status_code, response.get_json()) == (200, {"ok": True})
    customer = session.get(Customer, customer.id)
    assert customer.suppressed_at == TEST_START
    assert only(session, Survey).status == "cancelled"
    assert only(session, OutboxMessage).status == "cancelled"


def test_unsubscribing_an_unknown_address_keeps_it_from_ever_being_surveyed(
    client, auth, session, clock
):
    response = client.post(
        "/v1/unsubscribes.json", data={"person_email": "new@example.com"}, headers=auth
    )

    assert response.status_code == 200
    customer = only(session, Customer)
    assert (customer.email, customer.suppressed_at) == ("new@example.com", TEST_START)


def test_unsubscribe_without_a_valid_address_answers_422(client, auth, session):
    response = client.post("/v1/unsubscribes.json", json={"email": "ana@example.com"}, headers=auth)

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["person_email"]
    assert count(session, Customer) == 0


@pytest.fixture
def suppressed(session, client, auth, clock):
    """Two unsubscribes an hour apart, then a bounce and a spam-drop through SendGrid events."""
    client.post("/v1/unsubscribes.json", json={"person_email": "un1@example.com"}, headers=auth)
    clock.advance(hours=1)
    client.post("/v1/unsubscribes.json", json={"person_email": "un2@example.com"}, headers=auth)
    for email in ("bounce@example.com", "dropped@example.com", "spam-drop@example.com"):
        make_customer(session, email=email, name="Bea Bounce")
    record_email_events(
        session,
        events_from_batch(
            [
                {
                    "event": "bounce",
                    "email": "bounce@example.com",
                    "sg_event_id": "ev-1",
                    "reason": "550 no such user",
                    "timestamp": NOW,
                },
                {
                    "event": "dropped",
                    "email": "dropped@example.com",
                    "sg_event_id": "ev-2",
                    "reason": "Bounced Address",
                    "timestamp": NOW,
                },
                {
                    "event": "dropped",
                    "email": "spam-drop@example.com",
                    "sg_event_id": "ev-3",
                    "reason": "Spam Reporting Address",
                    "timestamp": NOW,
                },
            ]
        ),
        now=clock.now() + timedelta(hours=1),
    )
    session.commit()


def test_unsubscribes_list_every_suppressed_address_but_bounces(client, auth, session, suppressed):
    items = client.get("/v1/unsubscribes.json", headers=auth).get_json()

    assert [item["email"] for item in items] == [
        "un1@example.com",
        "un2@example.com",
        "spam-drop@example.com",
    ]
    un1 = session.scalars(select(Customer).where(Customer.email == "un1@example.com")).one()
    assert items[0] == {
        "person_id": str(un1.id),
        "email": "un1@example.com",
        "name": None,
        "unsubscribed_at": NOW,
    }
    assert items[1]["unsubscribed_at"] == NOW + 3600


def test_unsubscribes_page_and_window_like_responses(client, auth, suppressed):
    second_page = client.get("/v1/unsubscribes.json?per_page=1&page=2", headers=auth)
    since = client.get(f"/v1/unsubscribes.json?since={NOW + 1}&until={NOW + 3600}", headers=auth)

    assert [item["email"] for item in second_page.get_json()] == ["un2@example.com"]
    assert [item["email"] for item in since.get_json()] == ["un2@example.com"]


def test_bounces_list_addresses_whose_mail_bounced(client, auth, session, suppressed):
    items = client.get("/v1/bounces.json", headers=auth).get_json()

    assert [item["email"] for item in items] == ["bounce@example.com", "dropped@example.com"]
    assert items[0]["bounced_at"] == NOW + 2 * 3600
    assert set(items[0]) == {"person_id", "email", "name", "bounced_at"}
    assert items[0]["name"] == "Bea Bounce"


# --- paths as the clients send them, and errors on paths that lead nowhere ------------------


@pytest.mark.parametrize("path", ["/v1/unsubscribes", "/v1/unsubscribes.json"])
def test_each_resource_answers_with_and_without_dot_json(client, auth, path):
    response = client.get(path, headers=auth)

    assert response.status_code == 200
    assert response.get_json() == []


def test_a_path_that_leads_nowhere_is_a_404_in_delighteds_shape(client, auth):
    response = client.get("/v1/surveys", headers=auth)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert {"status": 404, "message": "Not Found"}.items() <= response.get_json().items()


def test_a_method_a_path_does_not_take_is_a_405_in_delighteds_shape_with_allow(client, auth):
    response = client.delete("/v1/metrics", headers=auth)

    assert response.status_code == 405
    assert response.get_json()["message"] == "Method Not Allowed"
    assert "GET" in response.headers["Allow"]


def test_withdrawing_pending_requests_also_cancels_a_waiting_reminder(client, auth, session, clock):
    customer = make_customer(session, email="ana@example.com")
    survey, _token = make_sent_survey(session, customer, sent_at=clock.now())
    session.add(
        OutboxMessage(
            template="reminder",
            to_email=customer.email,
            customer_id=customer.id,
            survey_id=survey.id,
            status="pending",
            next_attempt_at=clock.now() + timedelta(days=3),
        )
    )
    session.commit()

    response = client.delete("/v1/people/ana%40example.com/survey_requests/pending", headers=auth)

    assert response.status_code == 200
    assert response.get_json() == {"ok": True}
    assert [m.status for m in session.scalars(select(OutboxMessage))] == ["cancelled"]
    assert only(session, Customer).suppressed_at is None
