"""GET /api/v1/openapi.json describes every endpoint truthfully."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from surveys.models import CaseEvent
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_case, make_user

IGNORED_METHODS = {"HEAD", "OPTIONS"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def auth(session):
    _key, raw = make_api_key(session)
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")  # no key: the document holds no data
    assert response.status_code == 200
    return response.get_json()


def openapi_path(rule: str) -> str:
    """/api/v1/cases/<int:case_id> as OpenAPI writes it: /api/v1/cases/{case_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def follow(document: dict, node: dict) -> dict:
    """The object a local `$ref` points at (or the node itself)."""
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def assert_documented(document: dict, path: str, method: str, response) -> None:
    """The response's status, media type and body are as the document says."""
    operation = document["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method} {path} answered {response.status_code}, which is not documented"
    content = follow(document, documented)["content"]
    assert response.mimetype in content, (response.mimetype, list(content))
    schema = {**content[response.mimetype]["schema"], "components": document["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(response.get_json()), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)


def test_every_api_route_is_documented_with_its_methods_and_nothing_else(app, document):
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            routes.setdefault(openapi_path(rule.rule), set()).update(
                method.lower() for method in rule.methods - IGNORED_METHODS
            )
    documented = {path: set(item) & HTTP_METHODS for path, item in document["paths"].items()}

    assert documented == routes


def test_every_operation_with_path_parameters_declares_them(document):
    for path, item in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method in set(item) & HTTP_METHODS:
            parameters = [
                follow(document, p)
                for p in item.get("parameters", []) + item[method].get("parameters", [])
            ]
            declared = {p["name"] for p in parameters if p["in"] == "path"}
            assert declared == names, (method, path)


def test_operation_ids_are_unique(document):
    ids = [
        item[method]["operationId"]
        for item in document["paths"].values()
        for method in set(item) & HTTP_METHODS
    ]

    assert len(ids) == len(set(ids)), sorted(ids)


def test_only_the_document_itself_is_open_without_a_key(document):
    open_operations = [
        (method, path)
        for path, item in document["paths"].items()
        for method in set(item) & HTTP_METHODS
        if item[method].get("security", document["security"]) == []
    ]

    assert open_operations == [("get", "/api/v1/openapi.json")]


def test_the_contract_example_fits_the_documented_request(document):
    example = {
        "order_id": "A-1001",
        "customer": {
            "email": "ana@example.com",
            "name": "Ana Diaz",
            "id": "cus_42",
            "timezone": "Europe/Madrid",
        },
        "purchased_at": "2026-11-22T10:00:00Z",
        "total": "129.90",
        "currency": "EUR",
        "items": [
            {
                "sku": "KB-1",
                "name": "Keyboard",
                "category": "hardware",
                "quantity": 1,
                "unit_price": "129.90",
            }
        ],
        "owner_email": "olivia@shop.test",
    }
    schema = {"$ref": "#/components/schemas/PurchaseInput", "components": document["components"]}

    validator = Draft202012Validator(schema)
    assert not list(validator.iter_errors(example))
    assert list(validator.iter_errors({**example, "total": "-1"}))
    assert list(validator.iter_errors({"customer": {"email": "ana@example.com"}}))


def test_purchase_answers_are_as_documented(client, auth, session, clock, document):
    body = {"order_id": "A-1", "customer": {"email": "ana@example.com"}}
    path = "/api/v1/purchases"

    assert_documented(document, path, "POST", client.post(path, json=body, headers=auth))
    assert_documented(document, path, "POST", client.post(path, json=body, headers=auth))
    assert_documented(
        document, path, "POST", client.post(path, json={**body, "total": "x"}, headers=auth)
    )
    assert_documented(
        document,
        path,
        "POST",
        client.post(path, data="{", headers=auth, content_type="application/json"),
    )
    assert_documented(document, path, "POST", client.post(path, data="x", headers=auth))
    assert_documented(document, path, "POST", client.post(path, json=body))


def test_case_and_response_reads_are_as_documented(client, auth, session, document):
    owner = make_user(session)
    case = make_case(session, owner=owner, now=TEST_START)
    case.events.append(
        CaseEvent(kind="note", actor_user_id=owner.id, body="Called her.", created_at=TEST_START)
    )
    make_case(session, owner=owner, now=TEST_START)
    session.commit()

    assert_documented(
        document, "/api/v1/cases", "GET", client.get("/api/v1/cases?limit=1", headers=auth)
    )
    assert_documented(
        document, "/api/v1/cases", "GET", client.get("/api/v1/cases?status=nope", headers=auth)
    )
    assert_documented(
        document,
        "/api/v1/cases/{case_id}",
        "GET",
        client.get(f"/api/v1/cases/{case.id}", headers=auth),
    )
    assert_documented(
        document, "/api/v1/cases/{case_id}", "GET", client.get("/api/v1/cases/0", headers=auth)
    )
    assert_documented(
        document, "/api/v1/responses", "GET", client.get("/api/v1/responses?limit=1", headers=auth)
    )
    assert_documented(
        document,
        "/api/v1/responses",
        "GET",
        client.get("/api/v1/responses?since=soon", headers=auth),
    )
    assert_documented(document, "/api/v1/responses", "GET", client.get("/api/v1/responses"))
