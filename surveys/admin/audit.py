"""Admin: the audit log: every admin change, filterable, read-only (no page edits or deletes)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from surveys.admin.blueprint import bp
from surveys.admin.forms import AuditFilterForm
from surveys.db import db
from surveys.services import audit
from surveys.web_input import database_id, page_number


@bp.get("/audit")
def show_audit_log():
    """Who changed what, before and after, newest first; filter by action or by person."""
    session = db.session()
    form = AuditFilterForm(formdata=request.args)
    users, keys = audit.recorded_actors(session)
    form.action.choices = [SelectChoice("", _("Every action"))] + [
        SelectChoice(action) for action in audit.recorded_actions(session)
    ]
    form.actor.choices = (
        [SelectChoice("", _("Everyone"))]
        + [SelectChoice(f"user-{u.id}", u.name) for u in users]
        + [SelectChoice(f"key-{k.id}", _("API key “%(name)s”", name=k.name)) for k in keys]
    )
    form.validate()
    kind, actor_id = _parse_actor_choice(form.actor.data)
    if form.actor.data and actor_id is None and not form.actor.errors:
        form.actor.errors.append(NOBODY)
    filters = {name: form[name].data for name in ("action", "actor") if form[name].data}
    if form.errors:
        # A filter no entry can match (a NUL byte, an actor that cannot exist): say so
        # beside it rather than list everything under a filter that was not applied.
        nothing = audit.AuditPage(entries=[], page=1, has_next=False, total=0)
        return _audit_page(form, nothing, filters, status=422)
    page = audit.list_entries(
        session,
        action=form.action.data or None,
        actor_user_id=actor_id if kind == "user" else None,
        actor_api_key_id=actor_id if kind == "key" else None,
        page=page_number(request.args),
    )
    return _audit_page(form, page, filters)


NOBODY = _l("Choose someone from the list.")


def _parse_actor_choice(value: str | None) -> tuple[str | None, int | None]:
    """("user", 7) for "user-7", ("key", 3) for "key-3"; (kind, None) for what names nobody."""
    kind, _, number = (value or "").partition("-")
    return (kind, database_id(number)) if kind in ("user", "key") else (None, None)


def _audit_page(form, page, filters: dict[str, str], status: int = 200):
    # Only the filters' own names go back into the pager's links: the query string's
    # other names would reach url_for as its own arguments (_external, _scheme…).
    return render_template(
        "admin/show_audit_log.html", form=form, page=page, filters=filters
    ), status
