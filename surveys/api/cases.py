"""Cases: reading them (GET /api/v1/cases, /cases/<id>) and the five case actions.

The actions call the same services as the owner's
pages, recorded on the timeline as done through the calling API key. Each
answers 200 with the case as it is afterwards; 409 when the case's status
does not allow the action, 422 naming the field for a value that does not fit.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g
from pydantic import BaseModel

from surveys import clock
from surveys.api import queries, schemas
from surveys.api.blueprint import bp
from surveys.api.inputs import (
    AcknowledgeInput,
    CaseListQuery,
    CommentInput,
    ReassignInput,
    ReplyInput,
    ResolveInput,
    body_ref,
    encode_cursor,
    parse_body,
    parse_query,
    query_parameters,
)
from surveys.auth import api_key_required
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.services.cases import actions as case_actions
from surveys.services.cases.errors import CaseInputError
from surveys.services.cases.queries import get_case
from surveys.services.cases.states import can_reassign
from surveys.services.users.accounts import find_user_by_email

_UNAUTHORIZED = {"401": {"$ref": "#/components/responses/Unauthorized"}}
_CASE = {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}


def _action(operation_id: str, summary: str, description: str, body_model) -> dict:
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
    operation["requestBody"] = {
        "required": body_model is not AcknowledgeInput,
        "content": {"application/json": {"schema": body_ref(body_model)}},
    }
    return operation


OPENAPI_PATHS = {
    "/cases": {
        "get": {
            "operationId": "listCases",
            "summary": "List cases, newest first",
            "tags": ["Cases"],
            "parameters": query_parameters(CaseListQuery),
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
            AcknowledgeInput,
        )
    },
    "/cases/{case_id}/replies": {
        "post": _action(
            "replyToCase",
            "Reply to the customer",
            "Emails the customer in the owner's name, `Reply-To` the owner's address, so their "
            "answer reaches the owner. Either one `message`, or the two parts the owner's page "
            "asks for: `understood` (the customer's words said back in the owner's own; 422 "
            "when it is essentially a copy of them) and `will_do` (the remedy and when), sent "
            "as one letter. A reply to an open case acknowledges it. 409 on a closed case or "
            "an erased customer.",
            ReplyInput,
        )
    },
    "/cases/{case_id}/comments": {
        "post": _action(
            "commentOnCase",
            "Add an internal note",
            "A note on the case's timeline (the case's `comments`), never shown to the customer. "
            "Allowed in every status.",
            CommentInput,
        )
    },
    "/cases/{case_id}/reassign": {
        "post": _action(
            "reassignCase",
            "Hand the case to another owner",
            "One new owner, who is emailed; the customer is told the name of their new single "
            "point of contact. The reason is required. Deadlines stay as they were. 409 on a "
            "closed case; 422 for an unknown, inactive or current owner, or a missing reason.",
            ReassignInput,
        )
    },
    "/cases/{case_id}/resolve": {
        "post": _action(
            "resolveCase",
            "Resolve a case",
            "`open`/`acknowledged` → `resolved`, and the `fix-check` survey goes to the "
            "customer `ask_in_days` days later (at once for 0), quoting the `resolution`: "
            '"yes" closes the case, "no" or "partly" sends it back to '
            "`acknowledged` with the same owner, no answer within 7 days closes it unconfirmed. "
            "409 when the case is already resolved or closed.",
            ResolveInput,
        )
    },
}


@bp.get("/cases")
@api_key_required
def list_cases():
    """Cases newest first, optionally by status, owner, whose turn it is or a search, a page
    at a time."""
    query = parse_query(CaseListQuery)
    views, more = queries.list_case_views(
        db.session(),
        status=query.status,
        owner_email=query.owner,
        waiting_on=query.waiting_on,
        search=query.q,
        before=query.cursor,
        limit=query.limit,
    )
    last = views[-1].case if views and more else None
    return {
        "items": [schemas.case_json(v.case, v.reasons, v.comments) for v in views],
        "next_cursor": encode_cursor(last.created_at, last.id) if last else None,
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


def _act(case_id: int, body_model: type[BaseModel], action: Callable) -> dict:
    """Run one case action as the calling API key, commit, and answer with the case.

    The case is found first (404), then the body read (422), then the action run
    with it (409 when the case's status does not allow it; see api/domain_errors.py).
    """
    session = db.session()
    case = get_case(session, case_id)
    body = parse_body(body_model, optional=body_model is AcknowledgeInput)
    action(session, case, body)
    session.commit()
    view = queries.get_case_view(session, case_id)
    return schemas.case_json(view.case, view.reasons, view.comments)


@bp.post("/cases/<int:case_id>/acknowledge")
@api_key_required
def acknowledge_case(case_id: int):
    """Take the case: `open` → `acknowledged`."""
    return _act(
        case_id,
        AcknowledgeInput,
        lambda session, case, _body: case_actions.acknowledge_case(
            session, case, by_api_key=g.api_key, now=clock.now()
        ),
    )


@bp.post("/cases/<int:case_id>/replies")
@api_key_required
def reply_to_case(case_id: int):
    """Email the customer in the owner's name."""
    return _act(
        case_id,
        ReplyInput,
        lambda session, case, body: case_actions.reply_to_customer(
            session,
            case,
            message=body.message,
            understood=body.understood,
            will_do=body.will_do,
            by_api_key=g.api_key,
            now=clock.now(),
        ),
    )


@bp.post("/cases/<int:case_id>/comments")
@api_key_required
def comment_on_case(case_id: int):
    """Add an internal note, never shown to the customer."""
    return _act(
        case_id,
        CommentInput,
        lambda session, case, body: case_actions.add_case_note(
            session, case, body=body.body, by_api_key=g.api_key, now=clock.now()
        ),
    )


def _reassign(session, case, body: ReassignInput) -> None:
    new_owner = find_user_by_email(session, body.owner_email)
    if new_owner is None and can_reassign(case):
        raise CaseInputError("owner", "No one with this email address can own cases.")
    case_actions.reassign_case(
        session,
        case,
        new_owner=new_owner,
        reason=body.reason,
        by_api_key=g.api_key,
        now=clock.now(),
    )


@bp.post("/cases/<int:case_id>/reassign")
@api_key_required
def reassign_case(case_id: int):
    """Hand the case to one new owner, with a reason."""
    return _act(case_id, ReassignInput, _reassign)


@bp.post("/cases/<int:case_id>/resolve")
@api_key_required
def resolve_case(case_id: int):
    """Resolve the case and send the customer the fix-check survey."""
    return _act(
        case_id,
        ResolveInput,
        lambda session, case, body: case_actions.resolve_case(
            session,
            case,
            resolution=body.resolution,
            ask_in_days=body.ask_in_days,
            by_api_key=g.api_key,
            now=clock.now(),
        ),
    )
