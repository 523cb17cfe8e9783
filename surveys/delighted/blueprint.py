"""The blueprint of the Delighted-compatible endpoints under /v1, and how its routes are added."""

from flask import Blueprint

from surveys.i18n import read_by_integration

bp = Blueprint("delighted", __name__, url_prefix="/v1")
bp.before_request(read_by_integration)


def route(rule: str, methods: list[str]):
    """Route the view at `rule` and at `rule.json`.

    Delighted's documentation (and curl examples, and older clients) wrote the
    `.json`; its current official clients leave it off. Both reach the same view.
    """

    def decorator(view):
        for path in (rule, f"{rule}.json"):
            bp.add_url_rule(path, view_func=view, methods=methods)
        return view

    return decorator
