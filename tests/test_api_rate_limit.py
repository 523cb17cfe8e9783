"""Requests per API key are limited on /api/v1 and /v1 together, and every answer says so."""

from __future__ import annotations

import base64

import pytest

from surveys.config import api_rate_limit
from tests.factories import make_api_key


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def basic(raw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


@pytest.fixture
def keys(app, session) -> list[str]:
    app.config["API_RATE_LIMIT"] = "3 per 10 seconds"
    raws = [make_api_key(session, f"key {n}")[1] for n in range(2)]
    session.commit()
    return raws


def test_every_answer_says_where_the_key_stands(client, keys):
    first = client.get("/api/v1/cases", headers=bearer(keys[0]))
    second = client.get("/v1/bounces", headers=basic(keys[0]))

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["X-RateLimit-Limit"] == "3"
    assert (first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]) == (
        "2",
        "1",
    )
    assert int(second.headers["X-RateLimit-Reset"]) > 0
    assert "Retry-After" not in first.headers


def test_past_the_limit_each_api_answers_429_in_its_own_shape_with_retry_after(client, keys):
    for _ in range(3):
        assert client.get("/api/v1/cases", headers=bearer(keys[0])).status_code == 200

    api = client.get("/api/v1/cases", headers=bearer(keys[0]))
    delighted = client.get("/v1/bounces", headers=basic(keys[0]))
    other_key = client.get("/v1/bounces", headers=basic(keys[1]))

    assert api.status_code == delighted.status_code == 429
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["type"].endswith("rate-limited")
    assert delighted.get_json()["status"] == 429
    assert delighted.get_json()["message"] == "Too Many Requests"
    assert 1 <= int(api.headers["Retry-After"]) <= 10
    assert delighted.headers["X-RateLimit-Remaining"] == "0"
    # The limit is the key's own: another key is not held back.
    assert other_key.status_code == 200


def test_a_refused_write_past_the_limit_changes_nothing(client, keys, session):
    for _ in range(3):
        client.get("/v1/bounces", headers=basic(keys[0]))

    response = client.post("/v1/people", headers=basic(keys[0]), json={"email": "ana@example.com"})

    assert response.status_code == 429
    assert client.get("/v1/people", headers=basic(keys[1])).get_json() == []


def test_the_limit_is_checked_when_the_app_starts():
    assert api_rate_limit(None) == "200 per 10 seconds"
    assert api_rate_limit("50 per minute") == "50 per minute"
    with pytest.raises(ValueError, match="API_RATE_LIMIT"):
        api_rate_limit("lots")


def test_the_limit_is_checked_before_the_key_is_looked_up(client, keys):
    wrong = [client.get("/v1/bounces", headers=basic("h2h_not-a-key")) for _ in range(4)]

    assert [r.status_code for r in wrong] == [401, 401, 401, 429]
