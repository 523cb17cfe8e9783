"""Admin: the dashboard: how cases, answers and mail are doing, with a way to every admin page."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.db import db
from surveys.services import dashboard
from surveys.services.cases.queries import waiting_cases


@bp.get("/")
def show_admin_home():
    """/admin/ leads to the dashboard."""
    return redirect(url_for(".show_dashboard"))


@bp.get("/dashboard")
def show_dashboard():
    """Open and overdue cases, this week's responses and their negative share, mail failures."""
    session = db.session()
    now = clock.now()
    return render_template(
        "admin/show_dashboard.html",
        overview=dashboard.overview(session, now=now),
        busiest=dashboard.busiest_owners(session, now=now),
        waiting=waiting_cases(session),
    )
