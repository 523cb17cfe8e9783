"""Admin: the audit log: every admin change, filterable, read-only (no page edits or deletes)."""

from __future__ import annotations

from flask import render_template, request
from wtforms import SelectChoice

from surveys.admin import bp
from surveys.admin.forms import AuditFilterForm
from surveys.auth import admin_required
from surveys.db import db
from surveys.services import audit


@bp.get("/audit")
@admin_required
def show_audit_log():
    """Who changed what, before and after, newest first; filter by action or by person."""
    session = db.session()
    form = AuditFilterForm(formdata=request.args)
    users, keys = audit.recorded_actors(session)
    form.action.choices = [SelectChoice("", "Every action")] + [
        SelectChoice(action) for action in audit.recorded_actions(session)
    ]
    form.actor.choices = (
        [SelectChoice("", "Everyone")]
        + [SelectChoice(f"user-{u.id}", u.name) for u in users]
        + [SelectChoice(f"key-{k.id}", f"API key “{k.name}”") for k in keys]
    )
    kind, _, actor_id = (request.args.get("actor") or "").partition("-")
    actor_id = int(actor_id) if actor_id.isdigit() else None
    page = audit.list_entries(
        session,
        action=request.args.get("action") or None,
        actor_user_id=actor_id if kind == "user" else None,
        actor_api_key_id=actor_id if kind == "key" else None,
        page=max(request.args.get("page", 1, type=int), 1),
    )
    return render_template(
        "admin/show_audit_log.html",
        form=form,
        page=page,
        filters={k: v for k, v in request.args.items() if k != "page" and v},
    )
