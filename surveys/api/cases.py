"""Reading cases: GET /api/v1/cases and GET /api/v1/cases/<id>."""

from __future__ import annotations

from flask import request

from surveys.api import bp, queries, schemas
from surveys.auth import api_key_required
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.models.cases import CASE_STATUSES

_UNAUTHORIZED = {"401": {"$ref": "#/components/responses/Unauthorized"}}

OPENAPI_PATHS = {
    "/cases": {
        "get": {
            "operationId": "listCases",
            "summary": "List cases, newest first",
            "tags": ["Cases"],
            "parameters": [
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(CASE_STATUSES)}},
                {"name": "owner", "in": "query", "required": False,
                 "description": "The owner's email address.",
                 "schema": {"type": "string"}},
                {"$ref": "#/components/parameters/Limit"},
                {"$ref": "#/components/parameters/Cursor"},
            ],
            "responses": {
                "200": {"description": "One page of cases.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/CasePage"}}}},
                **_UNAUTHORIZED,
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        }
    },
    "/cases/{case_id}": {
        "get": {
            "operationId": "showCase",
            "summary": "One case",
            "tags": ["Cases"],
            "parameters": [{"$ref": "#/components/parameters/CaseId"}],
            "responses": {
                "200": {"description": "The case.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Case"}}}},
                **_UNAUTHORIZED,
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        }
    },
}


@bp.get("/cases")
@api_key_required
def list_cases():
    """Cases newest first, optionally by status and owner, a page at a time."""
    status = request.args.get("status") or None
    if status is not None and status not in CASE_STATUSES:
        raise schemas.validation_problem(
            {"status": [f"must be one of {', '.join(CASE_STATUSES)}"]})
    limit = schemas.parse_limit(request.args)
    cursor = request.args.get("cursor")
    before = schemas.decode_cursor(cursor) if cursor else None
    views, more = queries.list_case_views(
        db.session(), status=status, owner_email=request.args.get("owner") or None,
        before=before, limit=limit,
    )
    last = views[-1].case if views and more else None
    return {
        "items": [schemas.case_json(v.case, v.reasons, v.comments) for v in views],
        "next_cursor": schemas.encode_cursor(last.created_at, last.id) if last else None,
    }


@bp.get("/cases/<int:case_id>")
@api_key_required
def show_case(case_id: int):
    """One case, with its reasons and internal notes."""
    view = queries.get_case_view(db.session(), case_id)
    if view is None:
        raise ApiProblem(404, "Not Found", f"There is no case {case_id}.")
    return schemas.case_json(view.case, view.reasons, view.comments)
