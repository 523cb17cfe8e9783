"""The admin blueprint the page modules add their routes to."""

from flask import Blueprint

from surveys.auth import require_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Every page and action here is for admins only.
bp.before_request(require_admin)
