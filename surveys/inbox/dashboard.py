"""An owner's own dashboard: the figures and charts of their customers and cases."""

from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from surveys import clock
from surveys.auth import acting_user
from surveys.dashboard import page
from surveys.dashboard.form import read_filters
from surveys.db import db
from surveys.feed_pages import themes_section
from surveys.inbox.blueprint import bp


@bp.get("/dashboard")
@login_required
def show_own_dashboard():
    """The dashboard scoped to the person logged in (admins too see their own here)."""
    session = db.session()
    now = clock.now()
    choice = read_filters(request.args, session=session, now=now, own_id=acting_user().id)
    context = {}
    if choice.filters is not None:
        links = page.links_for(choice.filters, admin=False)
        context = {
            "sections": page.figures(session, choice.filters, links, now=now),
            "charts": page.charts(session, choice.filters),
            "chart_args": links.args,
            "links": links,
            **themes_section(choice.filters, feed_endpoint="inbox.list_my_responses"),
        }
    return render_template(
        "inbox/show_dashboard.html",
        choice=choice,
        form_choices=page.form_choices(session, with_owners=False),
        chart_endpoint="inbox.show_own_dashboard_chart",
        **context,
    ), (200 if choice.filters is not None else 400)


@bp.get("/dashboard/charts/<name>.svg")
@login_required
def show_own_dashboard_chart(name: str):
    session = db.session()
    choice = read_filters(request.args, session=session, now=clock.now(), own_id=acting_user().id)
    return page.chart_response(session, name, choice)
