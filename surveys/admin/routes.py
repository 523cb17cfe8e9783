"""Every admin page family, imported so that its routes join the blueprint the app registers."""

from surveys.admin import (  # noqa: F401
    allowances,
    api_keys,
    audit,
    channels,
    dashboard,
    email_words,
    exports,
    neglected,
    outbox,
    previews,
    question_set_history,
    question_sets,
    responses,
    routing,
    settings,
    users,
    webhooks,
)
from surveys.admin.blueprint import bp

__all__ = ["bp"]
