"""Admin: the outbox: what waits to be sent, what failed and why; retry or cancel."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.auth import acting_user
from surveys.db import db
from surveys.outbox import admin as outbox_admin
from surveys.web_input import page_number


@bp.get("/outbox")
def show_outbox():
    """Counts per status, one page of messages in the chosen view, and suppressed addresses."""
    session = db.session()
    view = request.args.get("status", "waiting")
    page = outbox_admin.list_messages(session, view=view, page=page_number(request.args))
    return render_template(
        "admin/show_outbox.html",
        page=page,
        counts=outbox_admin.outbox_counts(session),
        suppressed=outbox_admin.recently_suppressed(session),
        now=clock.now(),
    )


@bp.post("/outbox/<int:message_id>/retry")
def retry_outbox_message(message_id: int):
    """Put a failed message back in the queue, due now."""
    return _act(
        message_id,
        outbox_admin.retry_message,
        _l("Message %(id)s is back in the queue; the worker sends it on its next pass."),
    )


@bp.post("/outbox/<int:message_id>/cancel")
def cancel_outbox_message(message_id: int):
    """Cancel a message that has not gone yet."""
    return _act(message_id, outbox_admin.cancel_message, _l("Message %(id)s is cancelled."))


def _act(message_id: int, action, done):
    # The form carries only its CSRF token, which CSRFProtect checks for every POST.
    session = db.session()
    try:
        action(session, message_id, actor=acting_user(), now=clock.now())
    except outbox_admin.MessageNotFound:
        abort(404)
    except outbox_admin.OutboxActionRefused as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(_back())
    session.commit()
    flash(done % {"id": message_id})
    return redirect(_back())


def _back() -> str:
    """The outbox view the admin came from (only our own page's query is kept)."""
    view = request.form.get("status")
    page = page_number(request.form)
    args = {}
    if view in outbox_admin.VIEWS and view != "waiting":
        args["status"] = view
    if page > 1:
        args["page"] = page
    return url_for(".show_outbox", **args)
