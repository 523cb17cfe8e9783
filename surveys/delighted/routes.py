"""Every Delighted-compatible resource, imported so that its routes join the blueprint."""

from surveys.delighted import autopilot_views, response_views, views  # noqa: F401
from surveys.delighted.blueprint import bp

__all__ = ["bp"]
