"""Every API resource, imported so that its routes join the blueprint the app registers."""

from surveys.api import (  # noqa: F401
    cases,
    customers,
    openapi,
    purchases,
    question_sets,
    remembered_dates,
    responses,
)
from surveys.api.blueprint import bp

__all__ = ["bp"]
