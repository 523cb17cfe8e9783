"""The JSON API under /api/v1 (README's *Post a purchase*). One module per resource; each adds its
routes to `bp` and describes them in its `OPENAPI_PATHS` for /api/v1/openapi.json."""

from flask import Blueprint

from surveys.errors import api_problem_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Imported for their routes.
from surveys.api import (  # noqa: E402, F401
    cases,
    customers,
    openapi,
    purchases,
    question_sets,
    responses,
)
from surveys.api.domain_errors import answer_domain_errors  # noqa: E402

answer_domain_errors(bp, api_problem_response)
