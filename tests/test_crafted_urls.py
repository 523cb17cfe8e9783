"""Crafted URLs: ids past what the database holds, control characters in a page's address.

Each route of the URL map is tried, so a route added later is covered without a new row:
an id no `integer` column can hold names nothing (404, on every route, the API's too),
and a path segment of a people's page holding a control character names nothing (404).
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from surveys.url_converters import digits_at_most
from surveys.validation.numbers import MAX_DATABASE_ID
from tests.routes import (
    MACHINE_PREFIXES,
    auth_headers,
    is_int,
    make_world,
    path_for,
    route_table,
    rule_for,
)
from tests.web import csrf_token, log_in

# As written in the URL: 2^31, 2^63, 10^20, and more digits than int() converts.
HUGE_IDS = [str(2**31), str(2**63), str(10**20), "9" * 5000]


@pytest.fixture
def world(session, clock, admin):
    """A little of everything, an admin logged in by the tests, and an API key."""
    return make_world(session, admin=admin, now=clock.now())


def _request(client, method: str, path: str, world, token: str):
    headers = auth_headers(path, world.key)
    if method in ("GET", "DELETE"):
        return client.open(path, method=method, headers=headers)
    if path.startswith(("/api/", "/v1/", "/webhooks/")):
        return client.open(path, method=method, headers=headers, json={})
    return client.open(path, method=method, headers=headers, data={"csrf_token": token})


INT_ROUTES = route_table(lambda rule: any(is_int(c) for c in rule._converters.values()))


def test_the_table_of_id_routes_covers_people_pages_and_the_api():
    paths = {path for path, _method in INT_ROUTES}
    assert {"/cases/<int:case_id>", "/customers/<int:customer_id>"} <= paths
    assert any(path.startswith("/api/v1/cases/") for path in paths)
    assert any(path.startswith("/admin/") for path in paths)


@pytest.mark.parametrize(("rule_path", "method"), INT_ROUTES)
def test_an_id_no_database_column_can_hold_is_404_on_every_route(
    app, client, world, rule_path, method
):
    log_in(client, world.admin)
    token = csrf_token(client, "/admin/users")
    rule = rule_for(app, rule_path, method)
    int_names = [n for n, c in rule._converters.items() if is_int(c)]
    for huge in HUGE_IDS:
        path = path_for(rule, world, **dict.fromkeys(int_names, huge))
        response = _request(client, method, path, world, token)
        assert response.status_code == 404, (path[:80], response.status_code)
        if path.startswith("/api/"):
            assert response.mimetype == "application/problem+json"


def test_the_largest_id_a_column_holds_is_looked_up_and_not_found(client, world):
    log_in(client, world.admin)
    for path in (f"/cases/{MAX_DATABASE_ID}", f"/customers/{MAX_DATABASE_ID}"):
        assert client.get(path).status_code == 404
    response = client.get(
        f"/api/v1/cases/{MAX_DATABASE_ID}", headers=auth_headers("/api/", world.key)
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_every_int_route_refuses_ids_past_the_database_integer(app):
    converters = [
        converter
        for rule in app.url_map.iter_rules()
        for converter in rule._converters.values()
        if isinstance(converter, IntegerConverter)
    ]
    assert converters
    assert all(converter.max == MAX_DATABASE_ID for converter in converters)


def test_digits_other_than_ascii_name_no_case(client, world):
    log_in(client, world.admin)
    assert client.get("/cases/%D9%A3").status_code == 404  # ARABIC-INDIC DIGIT THREE


# The people's pages: the API and the other machine doors answer for their own path
# arguments (tests/test_api_crafted_input.py and beside it).
TEXT_ROUTES = route_table(
    lambda rule: (
        not rule.rule.startswith(MACHINE_PREFIXES)
        and any(not is_int(c) for c in rule._converters.values())
    )
)


@pytest.mark.parametrize("segment", ["a%00b", "a%0Ab", "%1B%5B2J"])
@pytest.mark.parametrize(("rule_path", "method"), TEXT_ROUTES)
def test_a_control_character_in_a_page_address_is_404(
    app, client, world, rule_path, method, segment
):
    log_in(client, world.admin)
    token = csrf_token(client, "/admin/users")
    rule = rule_for(app, rule_path, method)
    names = [n for n, c in rule._converters.items() if not is_int(c)]
    path = path_for(rule, world, **dict.fromkeys(names, segment))
    response = _request(client, method, path, world, token)
    assert response.status_code == 404, (path, response.status_code)


def test_the_tables_of_text_routes_hold_the_question_set_editor_and_the_survey():
    paths = {path for path, _method in TEXT_ROUTES}
    assert {"/admin/question-sets/<key>", "/s/<token>"} <= paths


@pytest.mark.parametrize("limit", [0, 7, 10, 99, 100, 2024, MAX_DATABASE_ID])
def test_the_id_pattern_takes_exactly_the_numbers_up_to_the_limit(limit):
    pattern = re.compile(digits_at_most(limit))
    width = len(str(limit))
    near = {0, 1, 9, 10, limit - 1, limit, limit + 1, limit * 10, 10**width - 1, 10**width}
    for number in sorted(n for n in near if n >= 0):
        assert bool(pattern.fullmatch(str(number))) == (number <= limit), number
    assert bool(pattern.fullmatch(str(limit).zfill(width))) is True
    for text in ("", "-1", "+1", "1.0", "٣", " 1"):
        assert pattern.fullmatch(text) is None, text
