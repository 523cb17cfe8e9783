"""Reading a request's JSON body, for the API, the Delighted endpoints and webhooks in."""

from __future__ import annotations

import json

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from surveys.errors import ApiProblem
from surveys.validation.json_values import json_shape_problem


def read_json_body() -> object:
    """The request's JSON body: 415 unless it is sent as JSON, 400 when it does not parse.

    Bodies over MAX_CONTENT_LENGTH answer 413, also when they arrive chunked
    without a Content-Length.
    """
    if not request.is_json:
        raise ApiProblem(
            415,
            "Unsupported Media Type",
            "Send the body as JSON with Content-Type: application/json.",
        )
    raw = request.get_data(cache=False)  # 413 here when Content-Length is over the limit
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # Werkzeug stops reading a streamed body at the limit without complaint;
        # one more byte from the server's own stream tells whether it was over.
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
    return parse_json_document(raw)


def parse_json_document(raw: bytes) -> object:
    """The body as JSON: 400 unless it is JSON we can read and write back.

    Python's json module reads NaN and Infinity, which JSON itself and no JSON column
    take; and nesting deep enough to exhaust the stack when the document is walked.
    """
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8 and NaN too; RecursionError, absurdly deep nesting.
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ApiProblem(400, "Malformed JSON", f"The body is not valid JSON: {detail}") from None
    reason = json_shape_problem(document)
    if reason:
        raise ApiProblem(400, "Malformed JSON", f"The body {reason}.")
    return document


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
