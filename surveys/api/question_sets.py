"""Question sets as code: read the published versions, publish a new one.

`PUT /question-sets/<key>` publishes the body's questions as the set's next
version: 201 when that made a new version, 200 when the questions equal the
newest version (nothing is created). A key nobody has used yet creates the set,
published as version 1 (201). The body's `name` renames the set; `version` and
`published_at` are read-only and ignored, so a document fetched with GET can be
edited in git and sent back as it is.
"""

from __future__ import annotations

from flask import g, jsonify, url_for
from sqlalchemy import select

from surveys import clock
from surveys.api.blueprint import bp
from surveys.api.inputs import (
    QuestionSetInput,
    QuestionSetQuery,
    body_ref,
    parse_query,
    query_parameters,
)
from surveys.api.json_body import read_json_body
from surveys.api.schemas import rfc3339, validation_problem
from surveys.auth import api_key_required
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.models import QuestionSet, QuestionSetVersion
from surveys.services.question_sets import fields, publishing, versions
from surveys.services.question_sets.document import QuestionSetInvalid, read_question_set


def question_set_json(question_set: QuestionSet, version: QuestionSetVersion) -> dict:
    """A set's published version as the API shows it."""
    return {
        "key": question_set.key,
        "name": question_set.name,
        "version": version.number,
        "published_at": rfc3339(version.published_at),
        "questions": versions.version_document(version),
    }


def _published_set(key: str) -> tuple[QuestionSet, QuestionSetVersion]:
    session = db.session()
    # A key no set could have (a NUL byte, 10,000 characters) is not looked for.
    known = fields.SET_KEY_PATTERN.fullmatch(key)
    question_set = (
        session.scalar(select(QuestionSet).where(QuestionSet.key == key)) if known else None
    )
    version = versions.latest_version(session, question_set) if question_set else None
    if version is None:
        raise ApiProblem(404, "Not Found", f"There is no published question set “{key}”.")
    return question_set, version


@bp.get("/question-sets")
@api_key_required
def list_question_sets():
    """Every published question set at its newest version."""
    session = db.session()
    items = []
    for question_set in session.scalars(select(QuestionSet).order_by(QuestionSet.key)):
        version = versions.latest_version(session, question_set)
        if version is not None:
            items.append(question_set_json(question_set, version))
    return jsonify({"items": items})


@bp.get("/question-sets/<key>")
@api_key_required
def show_question_set(key: str):
    """A set's newest version, or the one asked for with `?version=N`."""
    query = parse_query(QuestionSetQuery)
    question_set, version = _published_set(key)
    if query.version is not None:
        version = versions.get_version(db.session(), question_set, query.version)
        if version is None:
            raise ApiProblem(
                404, "Not Found", f"Question set “{key}” has no version {query.version}."
            )
    return jsonify(question_set_json(question_set, version))


@bp.put("/question-sets/<key>")
@api_key_required
def put_question_set(key: str):
    """Publish the body as the set's next version (201), or nothing when unchanged (200)."""
    session = db.session()
    try:
        document = read_question_set(read_json_body(), key=key)
        question_set, result = publishing.put_question_set(
            session, key, document, now=clock.now(), actor_api_key=g.api_key
        )
    except QuestionSetInvalid as exc:
        raise validation_problem(exc.errors) from None
    session.commit()
    response = jsonify(question_set_json(question_set, result.version))
    response.status_code = 201 if result.created else 200
    response.headers["Location"] = url_for(
        "api.show_question_set", key=question_set.key, version=result.version.number
    )
    return response


_QUESTION_KINDS = ("ChoiceQuestion", "ScaleQuestion", "TextQuestion")

OPENAPI_SCHEMAS: dict[str, dict] = {
    "Question": {
        "description": "A question of a published version: a choice, a scale or a text.",
        "oneOf": [{"$ref": f"#/components/schemas/{kind}"} for kind in _QUESTION_KINDS],
        "discriminator": {
            "propertyName": "type",
            "mapping": {
                kind.removesuffix("Question").lower(): f"#/components/schemas/{kind}"
                for kind in _QUESTION_KINDS
            },
        },
    },
    "QuestionSet": {
        "type": "object",
        "description": "A published version of a question set.",
        "required": ["key", "name", "version", "published_at", "questions"],
        "additionalProperties": False,
        "properties": {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "published_at": {"type": "string", "format": "date-time"},
            "questions": {"type": "array", "items": {"$ref": "#/components/schemas/Question"}},
        },
    },
}
_SET = {"application/json": {"schema": {"$ref": "#/components/schemas/QuestionSet"}}}
_KEY_PARAMETER = {
    "name": "key",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": fields.SET_KEY_PATTERN.pattern},
    "description": "The set's key, like heart-to-heart.",
}

OPENAPI_PATHS: dict[str, dict] = {
    "/question-sets": {
        "get": {
            "operationId": "listQuestionSets",
            "summary": "Every published question set, at its newest version",
            "tags": ["Question sets"],
            "responses": {
                "200": {
                    "description": "The sets, by key.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["items"],
                                "properties": {
                                    "items": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/QuestionSet"},
                                    }
                                },
                            }
                        }
                    },
                },
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        },
    },
    "/question-sets/{key}": {
        "get": {
            "operationId": "showQuestionSet",
            "summary": "A question set's newest version (or `?version=N`)",
            "tags": ["Question sets"],
            "parameters": [_KEY_PARAMETER, *query_parameters(QuestionSetQuery)],
            "responses": {
                "200": {"description": "The version.", "content": _SET},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        },
        "put": {
            "operationId": "putQuestionSet",
            "summary": "Publish the questions as the set's next version",
            "description": "Published versions never change: surveys already sent keep theirs "
            "and each response keeps the version it answered. When the questions "
            "equal the newest version nothing is created (200). An unknown key "
            "creates the set, published as version 1 (201). 422 for duplicate "
            "question keys, a choice without options, a rule that does not fit "
            "its type, or an empty set.",
            "tags": ["Question sets"],
            "parameters": [_KEY_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_ref(QuestionSetInput)}},
            },
            "responses": {
                "201": {
                    "description": "Published as a new version (or a new set).",
                    "content": _SET,
                },
                "200": {
                    "description": "Nothing changed: the newest version, as it was.",
                    "content": _SET,
                },
                "400": {"$ref": "#/components/responses/MalformedJson"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "413": {"$ref": "#/components/responses/ContentTooLarge"},
                "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
                "422": {"$ref": "#/components/responses/ValidationError"},
            },
        },
    },
}
