"""The API blueprint the resource modules add their routes to; domain errors answered once."""

from flask import Blueprint

from surveys.api.domain_errors import answer_domain_errors
from surveys.errors import api_problem_response
from surveys.i18n import read_by_integration

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(read_by_integration)
answer_domain_errors(bp, api_problem_response)
