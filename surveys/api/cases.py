"""Cases: reading them (GET /api/v1/cases, /cases/<id>) and the five case actions.

The actions (CONTRACT §4 "Case actions") call the same services as the owner's
pages, recorded on the timeline as done through the calling API key. Each
answers 200 with the case as it is afterwards; 409 when the case's status
does not allow the action, 422 naming the field for a value that does not fit.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g, request

from surveys import clock
from surveys.api import bp, queries, schemas
from surveys.auth import api_key_required
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.models.cases import CASE_STATUSES
from surveys.services import case_workflow
from surveys.services.case_workflow import CaseInputError, CaseNotFound, CaseStateError
from surveys.services.users import find_user_by_email

_UNAUTHORIZED = {"401": {"$ref": "#/components/responses/Unauthorized"}}
_CASE = {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}


def _action(operation_id: str, summary: str, description: str, body_schema: str | None) -> dict:
    """The OpenAPI description of one case action."""
    operation = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["Case actions"],
        "parameters": [{"$ref": "#/components/parameters/CaseId"}],
        "responses": {
            "200": {"description": "Done; the case as it is now.", "content": _CASE},
            "400": {"$ref": "#/components/responses/MalformedJson"},
            **_UNAUTHORIZED,
            "404": {"$ref": "#/components/responses/NotFound"},
            "409": {"$ref": "#/components/responses/Conflict"},
            "413": {"$ref": "#/components/responses/ContentTooLarge"},
            "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
            "422": {"$ref": "#/components/responses/ValidationError"},
        },
    }
    if body_schema:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{body_schema}"}}
            },
        }
    else:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return operation


def _text_input(field: str, description: str, max_length: int) -> dict:
    return {
        "type": "object",
        "required": [field],
        "properties": {
            field: {
                "type": "string",
                "minLength": 1,
                "maxLength": max_length,
                "description": description,
            }
        },
    }


OPENAPI_SCHEMAS = {
    "ReplyInput": _text_input(
        "message",
        "Emailed to the customer in the owner's name, Reply-To the owner's address.",
        case_workflow.MAX_REPLY_LENGTH,
    ),
    "CommentInput": _text_input(
        "body", "An internal note; never shown to the customer.", case_workflow.MAX_NOTE_LENGTH
    ),
    "ResolveInput": _text_input(
        "resolution", "What was done to fix it.", case_workflow.MAX_RESOLUTION_LENGTH
    ),
    "ReassignInput": {
        "type": "object",
        "required": ["owner_email", "reason"],
        "properties": {
            "owner_email": {
                "type": "string",
                "description": "An active owner or admin, not the current owner.",
            },
            "reason": {
                "type": "string",
                "minLength": 1,
                "maxLength": case_workflow.MAX_REASON_LENGTH,
                "description": "Why the case moves; shown to the new owner.",
            },
        },
    },
}

OPENAPI_PATHS = {
    "/cases": {
        "get": {
            "operationId": "listCases",
            "summary": "List cases, newest first",
            "tags": ["Cases"],
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": list(CASE_STATUSES)},
                },
                {
                    "name": "owner",
                    "in": "query",
                    "required": False,
                    "description": "The owner's email address.",
                    "schema": {"type": "string"},
                },
                {"$ref": "#/components/parameters/Limit"},
                {"$ref": "#/components/parameters/Cursor"},
            ],
            "responses": {
                "200": {
                    "description": "One page of cases.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CasePage"}}
                    },
                },
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
                "200": {
                    "description": "The case.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Case"}}
                    },
                },
                **_UNAUTHORIZED,
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        }
    },
    "/cases/{case_id}/acknowledge": {
        "post": _action(
            "acknowledgeCase",
            "Acknowledge a case",
            "`open` → `acknowledged`. The body may be `{}` or empty. 409 unless the case is open.",
            None,
        )
    },
    "/cases/{case_id}/replies": {
        "post": _action(
            "replyToCase",
            "Reply to the customer",
            "Emails the customer in the owner's name, `Reply-To` the owner's address, so their "
            "answer reaches the owner. A reply to an open case acknowledges it. 409 on a closed "
            "case or an erased customer.",
            "ReplyInput",
        )
    },
    "/cases/{case_id}/comments": {
        "post": _action(
            "commentOnCase",
            "Add an internal note",
            "A note on the case's timeline (the case's `comments`), never shown to the customer. "
            "Allowed in every status.",
            "CommentInput",
        )
    },
    "/cases/{case_id}/reassign": {
        "post": _action(
            "reassignCase",
            "Hand the case to another owner",
            "One new owner, who is emailed; the customer is told the name of their new single "
            "point of contact. The reason is required. Deadlines stay as they were. 409 on a "
            "closed case; 422 for an unknown, inactive or current owner, or a missing reason.",
            "ReassignInput",
        )
    },
    "/cases/{case_id}/resolve": {
        "post": _action(
            "resolveCase",
            "Resolve a case",
            "`open`/`acknowledged` → `resolved`, and the `fix-check` survey goes to the "
            'customer: "yes" closes the case, "no" or "partly" sends it back to '
            "`acknowledged` with the same owner, no answer within 7 days closes it unconfirmed. "
            "409 when the case is already resolved or closed.",
            "ResolveInput",
        )
    },
}


@bp.get("/cases")
@api_key_required
def list_cases():
    """Cases newest first, optionally by status and owner, a page at a time."""
    status = request.args.get("status") or None
    if status is not None and status not in CASE_STATUSES:
        raise schemas.validation_problem({"status": [f"must be one of {', '.join(CASE_STATUSES)}"]})
    limit = schemas.parse_limit(request.args)
    cursor = request.args.get("cursor")
    before = schemas.decode_cursor(cursor) if cursor else None
    views, more = queries.list_case_views(
        db.session(),
        status=status,
        owner_email=request.args.get("owner") or None,
        before=before,
        limit=limit,
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


# --- actions -----------------------------------------------------------------------

# The services name the new owner `owner`; the API's body names it `owner_email`.
_FIELD_NAMES = {"owner": "owner_email"}


def _act(case_id: int, action: Callable) -> dict:
    """Run one case action as the calling API key, commit, and answer with the case."""
    session = db.session()
    try:
        case = case_workflow.get_case(session, case_id)
    except CaseNotFound as exc:
        raise ApiProblem(404, "Not Found", str(exc)) from None
    try:
        action(session, case)
    except CaseStateError as exc:
        session.rollback()
        raise ApiProblem(409, "Conflict", str(exc)) from None
    except CaseInputError as exc:
        session.rollback()
        raise schemas.validation_problem(
            {_FIELD_NAMES.get(exc.field, exc.field): [str(exc)]}
        ) from None
    session.commit()
    view = queries.get_case_view(session, case_id)
    return schemas.case_json(view.case, view.reasons, view.comments)


def _body(*fields: str, optional: bool = False) -> dict[str, str | None]:
    """The JSON object's string fields (422 naming any that is not a string)."""
    if optional and not request.get_data(cache=True):
        return dict.fromkeys(fields)
    data = schemas.read_json_body()
    if not isinstance(data, dict):
        raise schemas.validation_problem({"body": ["must be a JSON object"]})
    errors = schemas.FieldErrors()
    values: dict[str, str | None] = {}
    for field in fields:
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            errors.add(field, "must be a string")
        values[field] = value if isinstance(value, str) else None
    errors.raise_if_any()
    return values


@bp.post("/cases/<int:case_id>/acknowledge")
@api_key_required
def acknowledge_case(case_id: int):
    """Take the case: `open` → `acknowledged`."""
    _body(optional=True)
    return _act(
        case_id,
        lambda session, case: case_workflow.acknowledge_case(
            session, case, by_api_key=g.api_key, now=clock.now()
        ),
    )


@bp.post("/cases/<int:case_id>/replies")
@api_key_required
def reply_to_case(case_id: int):
    """Email the customer in the owner's name."""
    body = _body("message")
    return _act(
        case_id,
        lambda session, case: case_workflow.reply_to_customer(
            session, case, message=body["message"], by_api_key=g.api_key, now=clock.now()
        ),
    )


@bp.post("/cases/<int:case_id>/comments")
@api_key_required
def comment_on_case(case_id: int):
    """Add an internal note, never shown to the customer."""
    body = _body("body")
    return _act(
        case_id,
        lambda session, case: case_workflow.add_case_note(
            session, case, body=body["body"], by_api_key=g.api_key, now=clock.now()
        ),
    )


@bp.post("/cases/<int:case_id>/reassign")
@api_key_required
def reassign_case(case_id: int):
    """Hand the case to one new owner, with a reason."""
    body = _body("owner_email", "reason")

    def reassign(session, case):
        new_owner = (
            find_user_by_email(session, body["owner_email"]) if body["owner_email"] else None
        )
        if new_owner is None and body["owner_email"] and case_workflow.can_reassign(case):
            raise CaseInputError("owner", "No one with this email address can own cases.")
        case_workflow.reassign_case(
            session,
            case,
            new_owner=new_owner,
            reason=body["reason"],
            by_api_key=g.api_key,
            now=clock.now(),
        )

    return _act(case_id, reassign)


@bp.post("/cases/<int:case_id>/resolve")
@api_key_required
def resolve_case(case_id: int):
    """Resolve the case and send the customer the fix-check survey."""
    body = _body("resolution")
    return _act(
        case_id,
        lambda session, case: case_workflow.resolve_case(
            session, case, resolution=body["resolution"], by_api_key=g.api_key, now=clock.now()
        ),
    )
