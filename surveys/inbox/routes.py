"""Every owners' page, imported so that its routes join the blueprint the app registers."""

from surveys.inbox import (  # noqa: F401
    account,
    attachments,
    customers,
    dashboard,
    occasions,
    responses,
    views,
)
from surveys.inbox.blueprint import bp

__all__ = ["bp"]
