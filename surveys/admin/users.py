"""Admin: users: create owners and admins, reset passwords, deactivate and reactivate,
with each person's workload beside them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_user
from sqlalchemy import select

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.forms import NewUserForm, ResetPasswordForm
from surveys.auth import acting_user
from surveys.db import db
from surveys.models import User
from surveys.services import dashboard
from surveys.services.audit import record_admin_change
from surveys.services.users import accounts as users

# Each view below makes its change through surveys.services.users and records it in the
# audit log in the same transaction, so a change and its audit entry commit together.


def _users_page(*, new_form=None, password_forms=None, status: int = 200, **extra):
    session = db.session()
    people = session.scalars(select(User).order_by(User.active.desc(), User.name, User.id)).all()
    password_forms = password_forms or {}
    return render_template(
        "admin/list_users.html",
        people=people,
        workloads=dashboard.workloads(session, now=clock.now()),
        new_form=new_form or NewUserForm(formdata=None),
        password_forms={
            p.id: password_forms.get(p.id) or ResetPasswordForm(formdata=None, prefix=f"u{p.id}")
            for p in people
        },
        **{"allowance_errors": {}, "allowance_values": {}, **extra},
    ), status


def _user_or_404(user_id: int) -> User:
    user = db.session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _snapshot(user: User) -> dict:
    return {"email": user.email, "name": user.name, "role": user.role, "active": user.active}


@bp.get("/users")
def list_users():
    """Everyone who logs in, with their open and overdue cases."""
    return _users_page()


@bp.post("/users")
def create_user():
    """Create an owner or an admin with a first password."""
    form = NewUserForm()
    if not form.validate():
        return _users_page(new_form=form, status=422)
    session = db.session()
    try:
        user = users.create_user(
            session,
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            password=form.password.data,
            now=clock.now(),
        )
    except users.UserError as exc:
        form.form_errors.append(str(exc))
        return _users_page(new_form=form, status=422)
    _record_user_change(session, "user.created", user, before=None)
    session.commit()
    flash(
        _(
            "%(name)s can now log in as %(email)s. Send them their password privately.",
            name=user.name,
            email=user.email,
        )
    )
    return redirect(url_for(".list_users"))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    """Give someone a new password (the old one stops working at once)."""
    session = db.session()
    user = _user_or_404(user_id)
    form = ResetPasswordForm(prefix=f"u{user.id}")
    if not form.validate():
        return _users_page(password_forms={user.id: form}, status=422)
    try:
        users.set_password(session, user, form.password.data)
    except users.UserError as exc:
        form.password.errors = [str(exc)]
        return _users_page(password_forms={user.id: form}, status=422)
    # The audit log says that the password changed, never what it is.
    record_admin_change(
        session,
        actor_user=acting_user(),
        action="user.password_reset",
        target=f"user {user.email}",
        before=None,
        after=None,
        now=clock.now(),
    )
    session.commit()
    if user.id == acting_user().id:
        # Their own password: every other session ended, this one carries on.
        login_user(user)
    flash(_("New password set for %(name)s.", name=user.name))
    return redirect(url_for(".list_users"))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id: int):
    """Stop someone logging in; refused while they still own cases that are not closed."""
    session = db.session()
    user = _user_or_404(user_id)
    before = _snapshot(user)
    try:
        users.deactivate_user(session, user, now=clock.now())
    except users.UserError as exc:
        session.rollback()
        flash(str(exc), "error")
        return _users_page(status=409)
    if before["active"]:
        _record_user_change(session, "user.deactivated", user, before=before)
    session.commit()
    flash(_("%(name)s can no longer log in.", name=user.name))
    return redirect(url_for(".list_users"))


@bp.post("/users/<int:user_id>/reactivate")
def reactivate_user(user_id: int):
    """Let a deactivated person log in again."""
    session = db.session()
    user = _user_or_404(user_id)
    before = _snapshot(user)
    users.reactivate_user(session, user, now=clock.now())
    if not before["active"]:
        _record_user_change(session, "user.reactivated", user, before=before)
    session.commit()
    flash(_("%(name)s can log in again.", name=user.name))
    return redirect(url_for(".list_users"))


def _record_user_change(session, action: str, user: User, *, before: dict | None) -> None:
    """The audit log's line for a change to someone's account, by the admin acting."""
    record_admin_change(
        session,
        actor_user=acting_user(),
        action=action,
        target=f"user {user.email}",
        before=before,
        after=_snapshot(user),
        now=clock.now(),
    )
