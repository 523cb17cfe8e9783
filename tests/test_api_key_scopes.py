"""Scopes: a `read` key is refused (403) on every route of /api/v1 and /v1 that writes, and
changes nothing; a `write` key may do everything.

The routes come from the app's URL map, so a write route added later is covered without
anyone adding it here.
"""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from surveys.auth import READ_METHODS
from surveys.db import Base
from tests.factories import make_api_key

KEY_PROTECTED = ("api.", "delighted.")
# Routes of those blueprints that answer without a key.
OPEN_ROUTES = {"api.show_openapi"}
# A value for each URL argument (an id that does not exist is fine: the key is checked first).
ARGUMENTS = {"key": "heart-to-heart"}


def key_routes(app, *, writes: bool) -> list[tuple[str, str]]:
    """(method, path) of every route that needs an API key and writes (or only reads)."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(KEY_PROTECTED) or rule.endpoint in OPEN_ROUTES:
            continue
        path = adapter.build(rule.endpoint, {a: ARGUMENTS.get(a, 1) for a in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (method not in READ_METHODS) == writes:
                routes.append((method, path))
    return routes


def credentials(path: str, raw: str) -> dict[str, str]:
    """Bearer for /api/v1; Basic with the key as user name for Delighted's /v1."""
    if path.startswith("/v1/"):
        return {"Authorization": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}
    return {"Authorization": f"Bearer {raw}"}


def row_counts(session) -> dict[str, int]:
    """Rows in every table: a refused request must leave each one as it was."""
    return {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
    }


@pytest.fixture
def read_key(session) -> str:
    _key, raw = make_api_key(session, "dashboard", scope="read")
    session.commit()
    return raw


def test_the_write_routes_include_every_kind_the_contract_names(app):
    routes = set(key_routes(app, writes=True))
    assert {
        ("POST", "/api/v1/purchases"),
        ("POST", "/api/v1/cases/1/acknowledge"),
        ("POST", "/api/v1/cases/1/resolve"),
        ("POST", "/api/v1/touchpoints"),
        ("PUT", "/api/v1/question-sets/heart-to-heart"),
        ("POST", "/v1/people"),
        ("DELETE", "/v1/people/1"),
        ("DELETE", "/v1/people/1/survey_requests/pending"),
        ("POST", "/v1/survey_responses"),
        ("PUT", "/v1/survey_responses/1"),
        ("POST", "/v1/unsubscribes"),
        ("POST", "/v1/autopilot/email/memberships"),
        ("DELETE", "/v1/autopilot/email/memberships"),
    } <= routes


def test_a_read_key_is_refused_on_every_write_route_and_changes_nothing(
    app, client, session, read_key
):
    before = row_counts(session)
    refused = {}
    for method, path in key_routes(app, writes=True):
        response = client.open(
            path,
            method=method,
            headers=credentials(path, read_key),
            json={"order_id": "R-1", "customer": {"email": "ana@example.com"}},
        )
        body = response.get_json()
        refused[(method, path)] = (response.status_code, body.get("status"))
        if path.startswith("/api/"):
            assert response.mimetype == "application/problem+json", path
            assert "read" in body["detail"]
        else:  # Delighted's routes keep Delighted's error shape
            assert body["message"] == "Forbidden", path

    assert refused and set(refused.values()) == {(403, 403)}, refused
    assert row_counts(session) == before


def test_a_read_key_may_use_every_read_route(app, client, read_key):
    answers = {}
    for method, path in key_routes(app, writes=False):
        response = client.open(path, method=method, headers=credentials(path, read_key))
        answers[(method, path)] = response.status_code

    assert answers and not {route: s for route, s in answers.items() if s in (401, 403)}


def test_a_write_key_is_not_refused_on_any_write_route(app, client, session):
    _key, raw = make_api_key(session, "shop", scope="write")
    session.commit()
    answers = {}
    for method, path in key_routes(app, writes=True):
        response = client.open(path, method=method, headers=credentials(path, raw), json={})
        answers[(method, path)] = response.status_code

    assert answers and not {route: s for route, s in answers.items() if s in (401, 403)}
