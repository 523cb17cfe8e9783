"""Every owners' page, imported so that its routes join the blueprint the app registers."""

from surveys.inbox import account, attachments, customers, dashboard, responses, views  # noqa: F401
from surveys.inbox.blueprint import bp

__all__ = ["bp"]
