"""Admin: the dashboard: what needs people now, then every figure of a date range with its charts,
and a way to every admin page."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import format_percent

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.dashboard import page
from surveys.dashboard.form import read_filters
from surveys.db import db
from surveys.feed_pages import themes_section
from surveys.services import dashboard
from surveys.services.cases.queries import waiting_cases
from surveys.services.occasions import gestures


@bp.get("/")
def show_admin_home():
    """/admin/ leads to the dashboard."""
    return redirect(url_for(".show_dashboard"))


@bp.get("/dashboard")
def show_dashboard():
    """Open and overdue cases and mail failures now; the figures and charts of the chosen range."""
    session = db.session()
    now = clock.now()
    choice = read_filters(request.args, session=session, now=now)
    overview = dashboard.overview(session, now=now)
    share = overview.negative_share
    context = {}
    if choice.filters is not None:
        links = page.links_for(choice.filters, admin=True)
        context = {
            "sections": page.figures(session, choice.filters, links, now=now),
            "charts": page.charts(session, choice.filters),
            "chart_args": links.args,
            "links": links,
            **themes_section(choice.filters, feed_endpoint="admin.list_responses"),
        }
    return render_template(
        "admin/show_dashboard.html",
        overview=overview,
        # "75%", "75 %": the share as the reader's language writes a percentage.
        negative_percent="–" if share is None else format_percent(share),
        busiest=dashboard.busiest_owners(session, now=now),
        gestures_by_owner=gestures.gestures_by_owner(session, since=gestures.month_start(now)),
        shop_currency=gestures.shop_currency(session),
        waiting=waiting_cases(session),
        choice=choice,
        form_choices=page.form_choices(session, with_owners=True),
        chart_endpoint="admin.show_dashboard_chart",
        **context,
    ), (200 if choice.filters is not None else 400)


@bp.get("/dashboard/charts/<name>.svg")
def show_dashboard_chart(name: str):
    """One chart of the dashboard as an SVG image, for the same filters."""
    session = db.session()
    choice = read_filters(request.args, session=session, now=clock.now())
    return page.chart_response(session, name, choice)
