"""GET, POST /api/v1/customers/<id>/dates and DELETE /api/v1/customers/<id>/dates/<date_id>:
an integration records, lists and removes a customer's dates; bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveys.models import RememberedDate
from tests.factories import make_api_key, make_customer
from tests.journey import bearer
from tests.test_openapi import assert_documented


@pytest.fixture
def keys(session):
    _key, write = make_api_key(session, "shop")
    _key, read = make_api_key(session, "reports", scope="read")
    session.commit()
    return {"write": bearer(write), "read": bearer(read)}


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def ana(session):
    customer = make_customer(session, email="ana@example.com", name="Ana Diaz")
    session.commit()
    return customer


def count_dates(session) -> int:
    return session.scalar(select(func.count()).select_from(RememberedDate))


DATES = "/api/v1/customers/{customer_id}/dates"
ONE_DATE = "/api/v1/customers/{customer_id}/dates/{date_id}"


def test_a_date_is_created_listed_and_deleted(client, session, clock, keys, document, ana):
    created = client.post(
        f"/api/v1/customers/{ana.id}/dates",
        json={"label": "Emma's graduation", "day": 12, "month": 6, "year": 2027, "yearly": False},
        headers=keys["write"],
    )
    assert created.status_code == 201, created.get_json()
    assert_documented(document, DATES, "POST", created)
    body = created.get_json()
    assert {k: body[k] for k in ("label", "day", "month", "year", "yearly")} == {
        "label": "Emma's graduation",
        "day": 12,
        "month": 6,
        "year": 2027,
        "yearly": False,
    }
    assert body["next_occurrence"] == "2027-06-12"
    assert body["recorded_by"] == "API key “shop”"

    listed = client.get(f"/api/v1/customers/{ana.id}/dates", headers=keys["read"])
    assert listed.status_code == 200
    assert_documented(document, DATES, "GET", listed)
    assert [item["id"] for item in listed.get_json()["items"]] == [body["id"]]

    deleted = client.delete(f"/api/v1/customers/{ana.id}/dates/{body['id']}", headers=keys["write"])
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/customers/{ana.id}/dates", headers=keys["read"]).get_json() == {
        "items": []
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label": "Birthday", "day": 31, "month": 4}, "day"),
        ({"label": "Birthday", "day": 29, "month": 2, "year": 2027}, "day"),
        ({"label": "Birthday", "day": 0, "month": 4}, "day"),
        ({"label": "Birthday", "day": 3, "month": 13}, "month"),
        ({"label": "Birth\u0000day", "day": 3, "month": 4}, "label"),
        ({"label": "", "day": 3, "month": 4}, "label"),
        ({"label": "Birthday", "day": "3", "month": 4}, "day"),
        ({"label": "Birthday", "day": 3, "month": 4, "year": 99999}, "year"),
        ({"day": 3, "month": 4}, "label"),
    ],
)
def test_bad_input_answers_422_naming_the_field_and_changes_nothing(
    client, session, clock, keys, document, ana, body, field
):
    response = client.post(f"/api/v1/customers/{ana.id}/dates", json=body, headers=keys["write"])

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert_documented(document, DATES, "POST", response)
    assert count_dates(session) == 0


def test_a_29_february_of_a_leap_year_is_kept(client, session, clock, keys, ana):
    response = client.post(
        f"/api/v1/customers/{ana.id}/dates",
        json={"label": "Leap day wedding", "day": 29, "month": 2, "year": 2028, "yearly": True},
        headers=keys["write"],
    )

    assert response.status_code == 201
    assert response.get_json()["next_occurrence"] == "2028-02-29"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/99999999999999999999/dates",
        "/api/v1/customers/2147483648/dates",
        "/api/v1/customers/2147483647/dates",
    ],
)
def test_an_id_no_customer_has_answers_404(client, session, keys, path):
    assert client.get(path, headers=keys["read"]).status_code == 404
    response = client.post(
        path, json={"label": "Birthday", "day": 1, "month": 1}, headers=keys["write"]
    )
    assert response.status_code == 404
    assert count_dates(session) == 0


def test_another_customers_date_or_an_unknown_one_is_not_deleted(
    client, session, clock, keys, document, ana
):
    ben = make_customer(session, email="ben@example.com", name="Ben Ode")
    session.commit()
    created = client.post(
        f"/api/v1/customers/{ana.id}/dates",
        json={"label": "Birthday", "day": 1, "month": 1},
        headers=keys["write"],
    ).get_json()

    for path in (
        f"/api/v1/customers/{ben.id}/dates/{created['id']}",
        f"/api/v1/customers/{ana.id}/dates/2147483647",
        f"/api/v1/customers/{ana.id}/dates/99999999999",
    ):
        response = client.delete(path, headers=keys["write"])
        assert response.status_code == 404, path
    assert_documented(
        document,
        ONE_DATE,
        "DELETE",
        client.delete(f"/api/v1/customers/{ben.id}/dates/{created['id']}", headers=keys["write"]),
    )
    assert count_dates(session) == 1


def test_a_read_key_may_list_but_not_change(client, session, clock, keys, ana):
    refused = client.post(
        f"/api/v1/customers/{ana.id}/dates",
        json={"label": "Birthday", "day": 1, "month": 1},
        headers=keys["read"],
    )
    assert refused.status_code == 403
    assert count_dates(session) == 0


def test_an_erased_customer_has_no_dates_to_show(client, session, clock, keys, ana):
    client.post(
        f"/api/v1/customers/{ana.id}/dates",
        json={"label": "Birthday", "day": 1, "month": 1},
        headers=keys["write"],
    )
    ana.erased_at = clock.now()
    session.commit()

    assert client.get(f"/api/v1/customers/{ana.id}/dates", headers=keys["read"]).status_code == 404
