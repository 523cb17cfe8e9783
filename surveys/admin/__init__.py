"""Admins' pages under /admin/ (README's *Who sees what*). One module per page family."""

from flask import Blueprint

from surveys.auth import require_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Every page and action here is for admins only.
bp.before_request(require_admin)

# Imported for their routes.
from surveys.admin import (  # noqa: E402, F401
    api_keys,
    audit,
    dashboard,
    exports,
    neglected,
    outbox,
    previews,
    question_sets,
    routing,
    settings,
    users,
    webhooks,
)
