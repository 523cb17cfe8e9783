"""An owner's comment feed: the responses of the customers they look after, their words first."""

from __future__ import annotations

from flask import request
from flask_login import login_required

from surveys.auth import acting_user
from surveys.feed_pages import render_feed
from surveys.inbox.blueprint import bp


@bp.get("/dashboard/responses")
@login_required
def list_my_responses():
    """Responses of the owner's account customers and of their cases' customers, newest first
    (an admin here sees their own too; /admin/responses has everyone's)."""
    return render_feed(
        request.args,
        template="insights/list_responses.html",
        endpoint=".list_my_responses",
        owner_id=acting_user().id,
    )
