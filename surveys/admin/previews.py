"""Admin: email previews: every email rendered with sample data, before it goes to anyone."""

from __future__ import annotations

from flask import abort, make_response, render_template, request

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.db import db
from surveys.mail import samples
from surveys.security_headers import email_html_preview_policy


@bp.get("/emails")
def list_email_previews():
    """Every email the service sends, to customers and to the team."""
    return render_template("admin/list_email_previews.html", entries=samples.preview_entries())


@bp.get("/emails/<name>")
def show_email_preview(name: str):
    """One email with sample data: its headers, the HTML as a mail app shows it, and the text."""
    preview = _render_or_404(name)
    return render_template(
        "admin/show_email_preview.html", preview=preview, entries=samples.preview_entries()
    )


@bp.get("/emails/<name>/html")
def show_email_html(name: str):
    """The email's HTML alone, for the preview's frame: inline styles allowed, nothing else."""
    preview = _render_or_404(name)
    if preview.error:
        abort(404)
    response = make_response(preview.html)
    # Its own policy: emails need inline styles (mail clients drop stylesheets), which the
    # site's policy forbids, and a frame's srcdoc would inherit that policy from the page.
    response.headers["Content-Security-Policy"] = email_html_preview_policy()
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_or_404(name: str) -> samples.Preview:
    entry = samples.find_entry(name, request.args.get("variant") or None)
    if entry is None:
        abort(404)
    return samples.render_preview(db.session(), entry, now=clock.now())
