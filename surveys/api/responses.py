"""GET /api/v1/responses: completed responses, oldest first, for syncing elsewhere."""

from __future__ import annotations

from surveys.api import queries, schemas
from surveys.api.blueprint import bp
from surveys.api.inputs import ResponseListQuery, encode_cursor, parse_query, query_parameters
from surveys.auth import api_key_required
from surveys.db import db

OPENAPI_PATHS = {
    "/responses": {
        "get": {
            "operationId": "listResponses",
            "summary": "List completed responses, oldest first",
            "tags": ["Responses"],
            "parameters": query_parameters(ResponseListQuery),
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
    query = parse_query(ResponseListQuery)
    responses, more = queries.list_responses(
        db.session(), since=query.since, after=query.cursor, limit=query.limit
    )
    last = responses[-1] if responses and more else None
    return {
        "items": [schemas.response_json(response) for response in responses],
        "next_cursor": encode_cursor(last.submitted_at, last.id) if last else None,
    }
