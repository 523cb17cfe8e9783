"""Admin: the comment feed of every response, the customer's words first."""

from __future__ import annotations

from flask import request

from surveys.admin.blueprint import bp
from surveys.feed_pages import render_feed


@bp.get("/responses")
def list_responses():
    """Every response of the range, newest first, filtered and searched as the query says."""
    return render_feed(
        request.args, template="admin/list_responses.html", endpoint=".list_responses"
    )
