"""GET /api/v1/openapi.json: the API described as OpenAPI 3.1.

Each API module declares its own operations in `OPENAPI_PATHS`, keyed by the
path as its blueprint routes it (`/cases/{case_id}`; the `/api/v1` prefix is
added here), and the schemas of its answers in `OPENAPI_SCHEMAS`, next to the
views they describe. Request bodies and query strings are described from the
pydantic models that read them (`surveys.api.inputs`), so what is documented is
what is checked. This module only assembles them with the shared parts. A test
checks that every route of the blueprint is described, and schemathesis that
the API keeps to the document.
"""

from __future__ import annotations

import sys

from flask import Flask, current_app
from pydantic import TypeAdapter

from surveys.api import inputs, schemas
from surveys.api.blueprint import bp
from surveys.validation.numbers import DatabaseId

OPENAPI_PATHS = {
    "/openapi.json": {
        "get": {
            "operationId": "showOpenApi",
            "summary": "This document",
            "tags": ["Meta"],
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _problem_response(description: str) -> dict:
    return {"description": description, "content": _PROBLEM}


SHARED_COMPONENTS = {
    "securitySchemes": {
        "apiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `flask --app app api-keys create NAME`.",
        },
    },
    "responses": {
        "MalformedJson": _problem_response("The body is not valid JSON."),
        "Unauthorized": _problem_response("The API key is missing, wrong or revoked."),
        "NotFound": _problem_response("There is nothing with this id."),
        "Conflict": _problem_response("The call does not fit the current status."),
        "ContentTooLarge": _problem_response("The body is larger than 1 MiB."),
        "UnsupportedMediaType": _problem_response(
            "The body is not sent as JSON (Content-Type: application/json)."
        ),
        "ValidationError": _problem_response(
            "Some fields are not valid; `errors` names each one with its messages."
        ),
        "TooManyRequests": {
            **_problem_response(
                "More requests with this API key than API_RATE_LIMIT allows (200 in 10 "
                "seconds unless configured); send it again after `Retry-After` seconds."
            ),
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before sending the request again.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
        },
    },
    "parameters": {
        "CaseId": {
            "name": "case_id",
            "in": "path",
            "required": True,
            "description": "A case's id; an id no case has answers 404.",
            "schema": TypeAdapter(DatabaseId).json_schema(),
        },
    },
}


@bp.get("/openapi.json")
def show_openapi():
    """The OpenAPI 3.1 description of this API (no key needed: it holds no data)."""
    app = current_app._get_current_object()
    if "openapi_document" not in app.extensions:  # it depends only on the code: build once
        app.extensions["openapi_document"] = openapi_document(app)
    return app.extensions["openapi_document"]


def described_modules(app: Flask) -> list:
    """The modules whose views serve the API's routes, each with its OPENAPI_PATHS."""
    names = {
        app.view_functions[rule.endpoint].__module__
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{bp.name}.")
    }
    return [sys.modules[name] for name in sorted(names)]


def _rate_limited(operations: dict) -> dict:
    """Every operation that takes a key may answer 429 (the limit counts per key)."""
    return {
        method: (
            operation
            if operation.get("security") == []
            else {
                **operation,
                "responses": {
                    **operation["responses"],
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                },
            }
        )
        for method, operation in operations.items()
    }


def openapi_document(app: Flask) -> dict:
    """The whole document, from every API module's OPENAPI_PATHS and the shared parts."""
    paths: dict[str, dict] = {}
    # Request bodies from the models that read them; answers from their hand-kept shapes.
    component_schemas = {**inputs.openapi_schemas(), **schemas.OPENAPI_SCHEMAS}
    for module in described_modules(app):
        for path, operations in getattr(module, "OPENAPI_PATHS", {}).items():
            if not path.startswith(f"{bp.url_prefix}/"):
                path = bp.url_prefix + path
            paths.setdefault(path, {}).update(_rate_limited(operations))
        component_schemas.update(getattr(module, "OPENAPI_SCHEMAS", {}))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Heart to Heart API",
            "version": "1",
            "description": "Post purchases, read cases and responses. Errors are RFC 9457 "
            "problem documents (application/problem+json).",
        },
        "servers": [{"url": app.config.get("BASE_URL") or "/"}],
        # Every operation needs the key unless it says otherwise.
        "security": [{"apiKey": []}],
        "paths": dict(sorted(paths.items())),
        "components": {**SHARED_COMPONENTS, "schemas": component_schemas},
    }
