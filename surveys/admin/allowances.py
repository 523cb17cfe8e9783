"""Admin: each person's monthly gesture allowance, their authority to act without asking."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.users import _users_page
from surveys.auth import acting_user
from surveys.db import db
from surveys.formats import money
from surveys.models import User
from surveys.services.audit import record_admin_change
from surveys.services.occasions import gestures
from surveys.validation.text import unstorable_text_reason


@bp.post("/users/<int:user_id>/gesture-allowance")
def set_gesture_allowance(user_id: int):
    """Set what someone may spend on gestures each month (empty: no allowance)."""
    session = db.session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    raw = request.form.get("allowance", "")
    try:
        if unstorable_text_reason(raw, multiline=False):
            raise gestures.GestureError({"allowance": _("Give an amount, like 50.")})
        amount = gestures.read_cost(raw[:30]) if raw.strip() else None
        before = user.monthly_gesture_allowance
        gestures.set_allowance(session, user, amount)
    except gestures.GestureError as exc:
        session.rollback()
        # read_cost speaks of a gesture's cost; here the amount is an allowance.
        message = (
            _("Give the allowance as an amount, like 12.50.")
            if "cost" in exc.errors
            else next(iter(exc.errors.values()))
        )
        return _users_page(
            status=422,
            allowance_errors={user_id: [message]},
            allowance_values={user_id: raw[:30] if not unstorable_text_reason(raw) else ""},
        )
    record_admin_change(
        session,
        actor_user=acting_user(),
        action="user.gesture_allowance",
        target=f"user {user.email}",
        before={"monthly_gesture_allowance": _words(before)},
        after={"monthly_gesture_allowance": _words(amount)},
        now=clock.now(),
    )
    session.commit()
    flash(
        _(
            "%(name)s may spend %(amount)s a month on gestures.",
            name=user.name,
            amount=money(amount, gestures.shop_currency(session)),
        )
        if amount is not None
        else _("%(name)s has no gesture allowance now.", name=user.name)
    )
    return redirect(url_for(".list_users", _anchor=f"user-{user.id}"))


def _words(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)
