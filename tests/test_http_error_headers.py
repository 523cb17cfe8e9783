"""Errors keep the headers werkzeug gives them: `Allow` on every 405, page or problem document."""

from __future__ import annotations

import base64

import pytest

from tests.routes import make_world, path_for, route_table, rule_for

TRIED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_by_path() -> dict[str, set[str]]:
    """Every path of the URL map with the methods its rules take together (HEAD, OPTIONS aside)."""
    allowed: dict[str, set[str]] = {}
    for path, method in route_table(lambda rule: True):
        allowed.setdefault(path, set()).add(method)
    return allowed


ALLOWED = _allowed_by_path()
REFUSED = [
    (path, next(method for method in TRIED_METHODS if method not in methods))
    for path, methods in sorted(ALLOWED.items())
]


@pytest.fixture
def world(session, clock, admin):
    return make_world(session, admin=admin, now=clock.now())


def _allow(response) -> set[str]:
    return {method.strip() for method in response.headers.get("Allow", "").split(",") if method}


@pytest.mark.parametrize(("rule_path", "method"), REFUSED)
def test_every_405_names_the_methods_the_address_takes(app, client, world, rule_path, method):
    taken = ALLOWED[rule_path]
    path = path_for(rule_for(app, rule_path, sorted(taken)[0]), world)
    # Under /v1 a request without a key is a 401 whatever its method: this one has a key.
    headers = {"Authorization": "Basic " + base64.b64encode(f"{world.key}:".encode()).decode()}
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == 405
    assert _allow(response) - {"HEAD", "OPTIONS"} == taken


def test_a_405_page_for_people_keeps_allow_and_stays_a_page(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert _allow(response) >= {"GET", "POST"}
    assert response.mimetype == "text/html"
    assert "Method Not Allowed" in response.get_data(as_text=True)


def test_a_405_problem_document_keeps_allow(client):
    response = client.get("/api/v1/purchases")
    assert response.status_code == 405
    assert "POST" in _allow(response)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 405


def test_a_401_problem_document_still_asks_for_a_bearer_key(client):
    response = client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
