"""Custom properties of a purchase: posted with it, kept, shown to owners, read by routing rules
and dashboard filters, exported with the responses; past their limits, a 422 naming the field."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.models import Case, Customer, Purchase, RoutingRule, Survey
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scores import net_score
from surveys.services.purchases import (
    CustomerInput,
    PurchaseInput,
    PurchaseRejected,
    record_purchase,
)
from surveys.services.surveys.responses import submit_response
from tests.conftest import TEST_START
from tests.factories import (
    UNHAPPY_ANSWERS,
    make_api_key,
    make_case,
    make_customer,
    make_purchase,
    make_user,
)
from tests.pages import page
from tests.web import csrf_token, log_in

ORDER = {
    "order_id": "A-2001",
    "customer": {"email": "ana@example.com", "name": "Ana Diaz"},
    "purchased_at": "2026-11-23T08:55:00Z",
    "total": "129.90",
    "currency": "EUR",
    "properties": {"plan": "Gold", "store": "Madrid – Gran Vía"},
}


@pytest.fixture
def auth(session):
    _key, raw = make_api_key(session)
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


def post(client, auth, body: dict):
    return client.post("/api/v1/purchases", json=body, headers=auth)


def test_posted_properties_are_kept_on_the_purchase(client, session, auth, clock):
    response = post(client, auth, ORDER)

    assert response.status_code == 201, response.get_json()
    purchase = session.scalar(select(Purchase).where(Purchase.order_id == "A-2001"))
    assert purchase.properties == {"plan": "Gold", "store": "Madrid – Gran Vía"}


def test_a_purchase_without_properties_has_none(client, session, auth, clock):
    body = {key: value for key, value in ORDER.items() if key != "properties"}
    assert post(client, auth, body).status_code == 201
    assert post(client, auth, {**body, "order_id": "A-2002", "properties": None}).status_code == 201
    kept = session.scalars(select(Purchase.properties).order_by(Purchase.id)).all()
    assert kept == [{}, {}]


def test_names_and_values_are_trimmed(client, session, auth, clock):
    assert post(client, auth, {**ORDER, "properties": {" plan ": " gold\n"}}).status_code == 201
    assert session.scalar(select(Purchase.properties)) == {"plan": "gold"}


@pytest.mark.parametrize(
    ("properties", "field", "message"),
    [
        ({"colour": "x" * 501}, "properties.colour", "must be at most 500 characters"),
        ({"x" * 65: "red"}, "properties." + "x" * 65, "more than 64 characters"),
        ({"colour": 7}, "properties.colour", "must be a string"),
        ({"colour": ["red"]}, "properties.colour", "must be a string"),
        ({"colour": None}, "properties.colour", "must be a string"),
        ({"colour": "r\x00d"}, "properties.colour", "NUL"),
        ({"colour": "r\ud800d"}, "properties.colour", "lone surrogate"),
        ({"col\x00our": "red"}, "properties.col\x00our", "NUL"),
        ({"col\nour": "red"}, "properties.col\nour", "single line"),
        ({"  ": "red"}, "properties.  ", "blank property name"),
        ({f"p{n}": "v" for n in range(51)}, "properties", "at most 50 properties"),
        (["plan", "gold"], "properties", "must be an object"),
        ("plan=gold", "properties", "must be an object"),
    ],
)
def test_properties_past_their_limits_are_a_422_naming_the_field(
    client, session, auth, clock, properties, field, message
):
    response = client.post(
        "/api/v1/purchases",
        data=json.dumps({**ORDER, "properties": properties}),
        headers={**auth, "Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert session.scalar(select(func.count(Purchase.id))) == 0
    assert session.scalar(select(func.count(Customer.id))) == 0


def test_fifty_properties_of_the_longest_names_and_values_are_accepted(
    client, session, auth, clock
):
    properties = {f"{n:02d}".ljust(64, "n"): "v" * 500 for n in range(50)}
    assert post(client, auth, {**ORDER, "properties": properties}).status_code == 201
    assert session.scalar(select(Purchase.properties)) == properties


def test_the_openapi_document_describes_properties(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["components"]["schemas"]["PurchaseInput"]["properties"]["properties"]
    assert schema["maxProperties"] == 50
    assert schema["propertyNames"]["maxLength"] == 64
    assert schema["additionalProperties"]["type"] == "string"
    assert schema["additionalProperties"]["maxLength"] == 500


def test_the_service_refuses_properties_past_their_limits_whoever_calls_it(session, clock):
    purchase = PurchaseInput(
        order_id="A-9",
        customer=CustomerInput(email="ana@example.com"),
        properties={"plan": "g" * 501},
    )
    with pytest.raises(PurchaseRejected) as refused:
        record_purchase(session, purchase, now=clock.now())
    assert refused.value.errors == {"properties.plan": ["must be at most 500 characters"]}
    assert session.scalar(select(func.count(Purchase.id))) == 0


# --- routing --------------------------------------------------------------------------------


def test_a_property_rule_gives_the_case_to_its_owner(client, session, auth, clock):
    make_user(session, role="admin", name="Ada Admin")
    gold_desk = make_user(session, role="owner", name="Gabi Gold", email="gabi@shop.test")
    session.add(
        RoutingRule(
            position=1, field="property", property_key="plan", value="gold", owner_id=gold_desk.id
        )
    )
    session.commit()
    assert post(client, auth, ORDER).status_code == 201  # plan "Gold": capitals aside
    survey = session.scalar(select(Survey))

    submit_response(session, survey, UNHAPPY_ANSWERS, now=clock.now() + timedelta(hours=2))

    case = session.scalar(select(Case))
    assert case.owner == gold_desk
    assert case.routed_by == "routing rule 1: property plan is gold"


def test_a_property_rule_passes_over_other_values_and_other_names(session, clock):
    from surveys.services.routing.decisions import choose_owner

    make_user(session, role="admin", name="Ada Admin")
    gold_desk = make_user(session, role="owner")
    session.add(
        RoutingRule(
            position=1, field="property", property_key="plan", value="gold", owner_id=gold_desk.id
        )
    )
    customer = make_customer(session)
    for properties in ({"plan": "silver"}, {"tier": "gold"}, {}):
        purchase = make_purchase(session, customer)
        purchase.properties = properties
        decision = choose_owner(session, customer=customer, purchase=purchase)
        assert decision.owner != gold_desk, properties


def test_an_admin_adds_a_property_rule_and_the_tester_finds_it(admin_client, session):
    gabi = make_user(session, role="owner", name="Gabi Gold", email="gabi@shop.test")
    session.commit()
    response = admin_client.post(
        "/admin/routing/rules",
        data={
            "csrf_token": csrf_token(admin_client, "/admin/routing"),
            "field": "property",
            "property_key": "plan",
            "value": "gold",
            "owner_id": gabi.id,
        },
    )
    assert response.status_code == 302
    rule = session.scalar(select(RoutingRule))
    assert (rule.field, rule.property_key, rule.value) == ("property", "plan", "gold")
    shown = page(admin_client.get("/admin/routing"))
    assert "When the property plan is gold, cases go to Gabi Gold" in shown.text

    tested = page(
        admin_client.get(
            "/admin/routing/test?email=new@example.com&property_name=plan&property_value=Gold"
        )
    )
    assert "Gabi Gold (gabi@shop.test) would own the case." in tested.text


def test_a_property_rule_needs_the_property_name(admin_client, session):
    gabi = make_user(session, role="owner", name="Gabi Gold")
    session.commit()
    response = admin_client.post(
        "/admin/routing/rules",
        data={
            "csrf_token": csrf_token(admin_client, "/admin/routing"),
            "field": "property",
            "property_key": "",
            "value": "gold",
            "owner_id": gabi.id,
        },
    )
    assert response.status_code == 422
    assert page(response).field_errors("property_key") == [
        "Give the name of the property the rule reads."
    ]
    assert session.scalar(select(func.count(RoutingRule.id))) == 0


# --- shown to owners ------------------------------------------------------------------------


def test_the_case_page_and_the_customer_page_show_the_properties(client, session, clock):
    owner = make_user(session, role="owner", name="Olivia Owner")
    customer = make_customer(session, owner=owner)
    purchase = make_purchase(session, customer, purchased_at=TEST_START - timedelta(hours=1))
    purchase.properties = {"plan": "gold", "store": "<b>Madrid</b>"}
    case = make_case(session, owner=owner, customer=customer, purchase=purchase, now=TEST_START)
    session.commit()
    log_in(client, owner)

    case_page = page(client.get(f"/cases/{case.id}"))
    shown = case_page.definitions(case_page.one("dl.purchase-properties"))
    assert shown == {"plan": "gold", "store": "<b>Madrid</b>"}  # as text, never as markup

    profile = page(client.get(f"/customers/{customer.id}"))
    assert profile.definitions(profile.one("dl.purchase-properties")) == shown


def test_a_purchase_without_properties_shows_no_property_list(client, session, clock):
    owner = make_user(session, role="owner")
    case = make_case(session, owner=owner, now=TEST_START)
    session.commit()
    log_in(client, owner)
    assert page(client.get(f"/cases/{case.id}")).find("dl.purchase-properties") is None


# --- the export and the dashboard -----------------------------------------------------------


def test_the_responses_export_has_the_properties_as_json_in_one_column(
    admin_client, session, clock
):
    owner = make_user(session, role="owner")
    customer = make_customer(session)
    purchase = make_purchase(session, customer, purchased_at=TEST_START - timedelta(hours=1))
    purchase.properties = {"store": '=HYPERLINK("x")', "plan": "gold"}
    make_case(session, owner=owner, customer=customer, purchase=purchase, now=TEST_START)
    make_case(session, owner=owner, now=TEST_START)
    session.commit()

    text = admin_client.get("/admin/export/responses.csv").get_data(as_text=True)

    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["properties"] == '{"plan":"gold","store":"=HYPERLINK(\\"x\\")"}'
    assert json.loads(rows[0]["properties"]) == {"plan": "gold", "store": '=HYPERLINK("x")'}
    assert rows[1]["properties"] == ""
    # The cell starts with a brace: no spreadsheet runs it as a formula.
    assert all(not row["properties"].startswith(("=", "+", "-", "@")) for row in rows)


def _answered_with(session, properties: dict, score: str, now):
    owner = make_user(session, role="owner")
    customer = make_customer(session)
    purchase = make_purchase(session, customer, purchased_at=now - timedelta(hours=1))
    purchase.properties = properties
    answers = {**UNHAPPY_ANSWERS, "recommend": score}
    make_case(session, owner=owner, customer=customer, purchase=purchase, answers=answers, now=now)


def test_a_property_filter_counts_only_the_purchases_that_carry_it(session, clock):
    now = clock.now()
    _answered_with(session, {"plan": "gold"}, "2", now)
    _answered_with(session, {"plan": "gold", "store": "Madrid"}, "3", now)
    _answered_with(session, {"plan": "silver"}, "9", now)
    _answered_with(session, {'plan\'s "name".x': "gold"}, "4", now)
    _answered_with(session, {}, "10", now)
    session.flush()
    week = {"start": now - timedelta(days=7), "end": now + timedelta(days=1)}

    gold = net_score(session, InsightFilters(**week, property_name="plan", property_value="gold"))
    odd_name = InsightFilters(**week, property_name='plan\'s "name".x', property_value="gold")
    everyone = net_score(session, InsightFilters(**week))

    assert (gold.detractors, gold.answers) == (2, 2)
    assert net_score(session, odd_name).answers == 1
    assert everyone.answers == 5


def test_the_dashboard_form_reads_the_property_filter(admin_client, session, clock):
    _answered_with(session, {"plan": "gold"}, "2", clock.now())
    _answered_with(session, {"plan": "silver"}, "10", clock.now())
    session.commit()

    shown = page(admin_client.get("/admin/dashboard?property=plan&property_value=gold"))
    assert shown.stats()["net score"] == "-100"
    assert (shown.field_value("property"), shown.field_value("property_value")) == (
        "plan",
        "gold",
    )
    half = admin_client.get("/admin/dashboard?property=plan")
    assert half.status_code == 400
    assert page(half).field_errors("property_value") == ["Give the value the property must have."]
