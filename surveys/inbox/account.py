"""Logging in and out: the door to the inbox."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import (
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user

from surveys import throttle
from surveys.auth import acting_user
from surveys.db import db
from surveys.i18n import refresh_language, shop_language
from surveys.inbox.blueprint import bp
from surveys.inbox.forms import AccountSettingsForm, LoginForm
from surveys.services.digests import business_zone_name
from surveys.services.users import accounts as users
from surveys.validation.codes import known_timezones
from surveys.validation.text import unstorable_text_reason

WRONG_CREDENTIALS = lazy_gettext("That email and password do not match. Please try again.")


# --- logging in and out --------------------------------------------------------


@bp.get("/")
def show_home():
    """Send people to their inbox, or to the login page first."""
    if current_user.is_authenticated:
        return redirect(url_for(".show_inbox"))
    return redirect(url_for(".login"))


# Each POST passes the login throttle first (surveys/throttle.py, attached in create_app):
# too many failures for the account or from the address answer show_login_throttled below.
@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a person in with their email and password, then take them where they were going."""
    next_path = safe_next_path(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_path or url_for(".show_inbox"))
    form = LoginForm()
    if not form.is_submitted():
        return render_template("inbox/login.html", form=form, next=next_path)
    if not form.validate():
        return render_template("inbox/login.html", form=form, next=next_path), 422
    user = users.authenticate(db.session(), form.email.data, form.password.data)
    if user is None:
        # Counted against the account and the address (surveys/throttle.py), and logged.
        throttle.record_failed_login(form.email.data)
        # One answer for every failure, so the page never tells which part was wrong
        # or whether the address has an account. Status 200: the form was well filled in.
        form.form_errors.append(WRONG_CREDENTIALS)
        return render_template("inbox/login.html", form=form, next=next_path)
    # A fresh session (and CSRF token) on login, so nothing planted before it survives.
    session.clear()
    login_user(user)
    return redirect(next_path or url_for(".show_inbox"))


def show_login_throttled(limit: RequestLimit) -> Response:
    """The login form again, 429: too many failed attempts for this account or from this address."""
    wait = throttle.retry_after_seconds(limit)
    # Rounded up: told "1 minute" with 90 seconds to go, a person would be refused again.
    form = LoginForm()
    if wait >= 60:
        refusal = ngettext(
            "Too many failed attempts to log in. Please wait %(num)d minute and try again.",
            "Too many failed attempts to log in. Please wait %(num)d minutes and try again.",
            math.ceil(wait / 60),
        )
    else:
        refusal = ngettext(
            "Too many failed attempts to log in. Please wait %(num)d second and try again.",
            "Too many failed attempts to log in. Please wait %(num)d seconds and try again.",
            math.ceil(wait),
        )
    form.form_errors.append(refusal)
    page = render_template(
        "inbox/login.html", form=form, next=safe_next_path(request.args.get("next"))
    )
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.get("/logout")
def confirm_logout():
    """A typed or bookmarked /logout: ask with a button (logging out is a POST)."""
    if not current_user.is_authenticated:
        return redirect(url_for(".login"))
    return render_template("inbox/confirm_logout.html")


@bp.post("/logout")
def logout():
    """Log out everywhere: this session and every other one of this person, copies included.

    A POST with a CSRF token, so another site cannot do it with a link.
    """
    if current_user.is_authenticated:
        s = db.session()
        users.end_sessions(s, acting_user())
        s.commit()
    logout_user()
    session.clear()
    flash(gettext("You are logged out. See you soon."))
    return redirect(url_for(".login"))


def safe_next_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "/\evil.example" as "//evil.example", and strip tabs, newlines and
    # other control characters: no path of ours holds any of them.
    if any(char in target for char in "\\\t") or unstorable_text_reason(target, multiline=False):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# --- one's own settings ----------------------------------------------------------


def _settings_form(session) -> AccountSettingsForm:
    form = AccountSettingsForm()
    form.with_languages(shop_language())
    return form.with_zones(sorted(known_timezones()), business_zone_name(session))


@bp.get("/account/settings")
@login_required
def edit_account_settings():
    """The person's own settings: the weekly digest on or off, and their time zone."""
    session = db.session()
    me = acting_user()
    form = _settings_form(session)
    form.weekly_digest.data = me.weekly_digest
    form.time_zone.data = me.time_zone or ""
    form.language.data = me.locale or ""
    return render_template("inbox/edit_account_settings.html", form=form)


@bp.post("/account/settings")
@login_required
def update_account_settings():
    """Save the person's own settings; the form again, 422, with what to fix."""
    session = db.session()
    form = _settings_form(session)
    if not form.validate_on_submit():
        return render_template("inbox/edit_account_settings.html", form=form), 422
    users.set_digest_preferences(
        session,
        acting_user(),
        weekly_digest=form.weekly_digest.data,
        time_zone=form.time_zone.data or None,
    )
    users.set_own_language(session, acting_user(), form.language.data or None)
    session.commit()
    refresh_language()  # the message below already reads in the language just chosen
    flash(
        gettext("Saved. The weekly digest comes on Monday mornings in your time zone.")
        if form.weekly_digest.data
        else gettext("Saved. We will not send you the weekly digest.")
    )
    return redirect(url_for(".edit_account_settings"), 303)


# --- the inbox -------------------------------------------------------------------
