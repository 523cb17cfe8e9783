"""Admin: email previews: every email rendered with sample data, before it goes to anyone."""

from __future__ import annotations

from flask import abort, render_template, request

from surveys import clock
from surveys.admin import bp
from surveys.auth import admin_required
from surveys.db import db
from surveys.mail import samples


@bp.get("/emails")
@admin_required
def list_email_previews():
    """Every email the service sends, to customers and to the team."""
    return render_template("admin/list_email_previews.html", entries=samples.preview_entries())


@bp.get("/emails/<name>")
@admin_required
def show_email_preview(name: str):
    """One email with sample data: its headers, the HTML as a mail app shows it, and the text."""
    entry = samples.find_entry(name, request.args.get("variant") or None)
    if entry is None:
        abort(404)
    preview = samples.render_preview(db.session(), entry, now=clock.now())
    return render_template(
        "admin/show_email_preview.html", preview=preview, entries=samples.preview_entries()
    )
