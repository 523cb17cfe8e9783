"""GET /api/v1/responses: completed responses, oldest first, for syncing elsewhere."""

from __future__ import annotations

from flask import request

from surveys.api import bp, queries, schemas
from surveys.auth import api_key_required
from surveys.db import db

OPENAPI_PATHS = {
    "/responses": {
        "get": {
            "operationId": "listResponses",
            "summary": "List completed responses, oldest first",
            "tags": ["Responses"],
            "parameters": [
                {
                    "name": "since",
                    "in": "query",
                    "required": False,
                    "description": "Only responses submitted at or after this RFC 3339 moment.",
                    "schema": {"type": "string", "format": "date-time"},
                },
                {"$ref": "#/components/parameters/Limit"},
                {"$ref": "#/components/parameters/Cursor"},
            ],
            "responses": {
                "200": {
                    "description": "One page of responses.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SurveyResponsePage"}
                        }
                    },
                },
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        }
    }
}


@bp.get("/responses")
@api_key_required
def list_responses():
    """Completed responses oldest first, from `since`, a page at a time."""
    since = None
    if request.args.get("since"):
        since = schemas.parse_rfc3339(request.args["since"])
        if since is None:
            raise schemas.validation_problem(
                {
                    "since": [
                        "must be an RFC 3339 date-time with an offset, like 2026-11-22T10:00:00Z"
                    ]
                }
            )
    limit = schemas.parse_limit(request.args)
    cursor = request.args.get("cursor")
    after = schemas.decode_cursor(cursor) if cursor else None
    responses, more = queries.list_responses(db.session(), since=since, after=after, limit=limit)
    last = responses[-1] if responses and more else None
    return {
        "items": [schemas.response_json(response) for response in responses],
        "next_cursor": schemas.encode_cursor(last.submitted_at, last.id) if last else None,
    }
