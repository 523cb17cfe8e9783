"""The app's URL map as test tables: every route, with plausible arguments to fill it in.

Tables read from the URL map cover a route added later without a new row.
"""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Callable
from types import SimpleNamespace

from werkzeug.routing import IntegerConverter, Rule

from surveys import create_app
from tests.factories import (
    make_api_key,
    make_case,
    make_customer,
    make_purchase,
    make_sent_survey,
    make_user,
)

IGNORED_METHODS = {"HEAD", "OPTIONS"}
MACHINE_PREFIXES = ("/api/", "/v1/", "/webhooks/", "/static/")


def route_table(keep: Callable[[Rule], bool]) -> list[tuple[str, str]]:
    """(rule, method) for every route `keep` accepts, read when the tests are collected."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": "sqlite://"}, instance_path=instance)
        rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods)))
        return [
            (rule.rule, method)
            for rule in rules
            if rule.endpoint != "static" and keep(rule)
            for method in sorted(rule.methods - IGNORED_METHODS)
        ]


def make_world(session, *, admin, now) -> SimpleNamespace:
    """Something behind every kind of path argument: the admin's open case, an owner's
    customer with order ORDER-42 and a sent survey (its link's token), and an API key."""
    owner = make_user(session, role="owner", name="Olivia Moreno", email="olivia@shop.test")
    case = make_case(session, owner=admin, now=now)
    customer = make_customer(session, owner=owner, name="Bea Lopez", email="bea@example.com")
    purchase = make_purchase(session, customer, order_id="ORDER-42")
    _survey, token = make_sent_survey(session, customer, purchase=purchase, sent_at=now)
    _key, raw_key = make_api_key(session)
    session.commit()
    return SimpleNamespace(
        admin=admin, owner=owner, case=case, customer=customer, token=token, key=raw_key
    )


def is_int(converter) -> bool:
    return isinstance(converter, IntegerConverter)


def rule_for(app, rule_path: str, method: str) -> Rule:
    """The one rule of the app with this path that takes this method."""
    (rule,) = [r for r in app.url_map.iter_rules() if r.rule == rule_path and method in r.methods]
    return rule


def plausible_argument(name: str, converter, world) -> str:
    """A value for a path argument that the route would accept."""
    if is_int(converter):
        return str(world.case.id)
    known = {
        "key": "heart-to-heart",
        "token": world.token,
        "name": "survey",
        "direction": "up",
        "order_id": "ORDER-42",
        "email": "bea@example.com",
    }
    return known[name] if name in known else converter.to_url("x")


def path_for(rule: Rule, world, **overrides: str) -> str:
    """The rule's path with plausible arguments, some replaced (given already URL-encoded)."""
    path = rule.rule
    for name, converter in rule._converters.items():
        value = overrides.get(name, plausible_argument(name, converter, world))
        path = re.sub(rf"<[^>]*\b{name}>", value, path)
    return path


def auth_headers(path: str, key: str) -> dict[str, str]:
    """The API key as each machine door wants it: Bearer for /api, Basic for Delighted's /v1."""
    if path.startswith("/api/"):
        return {"Authorization": f"Bearer {key}"}
    if path.startswith("/v1/"):
        return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    return {}
