"""Admins' pages under /admin/ (README's *Who sees what*). One module per page family."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

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
