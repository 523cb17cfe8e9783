"""Admin: settings: timing, case targets and the words customers see, each explained."""

from __future__ import annotations

from babel.lists import format_list
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.forms import CsrfOnlyForm, settings_form_class
from surveys.auth import acting_user
from surveys.db import db
from surveys.services import settings
from surveys.services.brand import (
    LOGO_MAX_BYTES,
    LogoRefused,
    current_brand,
    remove_logo,
    replace_logo,
)

# How the page groups the settings, in order.
GROUPS = (
    (
        _l("Sending surveys"),
        (
            "survey_delay_minutes",
            "reminder_delay_hours",
            "throttle_days",
            "age_limit_days",
            "quiet_hours_start",
            "quiet_hours_end",
        ),
    ),
    (
        _l("Looking after cases"),
        ("acknowledge_hours", "resolve_hours", "fix_check_delay_days", "fix_check_days"),
    ),
    (
        _l("Your brand"),
        ("shop_name", "accent_colour", "sender_name", "sender_address", "signature"),
    ),
    (_l("What customers see"), ("default_language", "thank_you_message", "public_review_url")),
    (_l("The team"), ("business_time_zone",)),
    (_l("Keeping records"), ("outbox_retention_days",)),
)


def _settings_page(form, status: int = 200, logo_error: str | None = None):
    grouped = [(title, [form[key] for key in keys if key in form]) for title, keys in GROUPS]
    return render_template(
        "admin/show_settings.html",
        form=form,
        groups=grouped,
        specs=settings.SPECS,
        brand=current_brand(db.session()),
        logo_form=CsrfOnlyForm(),
        logo_error=logo_error,
        logo_max_kb=LOGO_MAX_BYTES // 1024,
    ), status


@bp.get("/settings")
def show_settings():
    """Every setting with its current value and what it changes."""
    values = settings.all_settings(db.session())
    data = {spec.key: str(values[spec.key]) for spec in settings.page_specs()}
    return _settings_page(settings_form_class()(formdata=None, data=data))


@bp.post("/settings")
def update_settings():
    """Save the settings that changed (all are checked first; one audit entry per change)."""
    form = settings_form_class()()
    if not form.validate():
        return _settings_page(form, 422)
    session = db.session()
    values = {spec.key: form[spec.key].data for spec in settings.page_specs()}
    try:
        changed = settings.update_settings(session, values, actor=acting_user(), now=clock.now())
    except settings.SettingsInvalid as exc:
        for key, messages in exc.errors.items():
            form[key].errors = list(form[key].errors) + messages
        return _settings_page(form, 422)
    session.commit()
    if changed:
        labels = [str(settings.SPECS[key].label) for key in changed]
        flash(_("Saved: %(settings)s.", settings=format_list(labels, locale=get_locale())))
    else:
        flash(_("Nothing changed."))
    return redirect(url_for(".show_settings"))


def _current_settings_form():
    values = settings.all_settings(db.session())
    data = {spec.key: str(values[spec.key]) for spec in settings.page_specs()}
    return settings_form_class()(formdata=None, data=data)


@bp.post("/settings/logo")
def upload_logo():
    """Keep an uploaded logo (PNG, JPEG or WebP, read by its content) as the shop's."""
    form = CsrfOnlyForm()
    if not form.validate():
        return _settings_page(_current_settings_form(), 422, logo_error=_("Please try again."))
    upload = request.files.get("logo")
    # Read one byte past the limit: enough to say it is too big without reading it all.
    data = upload.stream.read(LOGO_MAX_BYTES + 1) if upload is not None else b""
    session = db.session()
    try:
        replace_logo(session, data, actor=acting_user(), now=clock.now())
    except LogoRefused as exc:
        session.rollback()
        return _settings_page(_current_settings_form(), 422, logo_error=str(exc))
    session.commit()
    flash(_("Your logo is saved: customers' pages and emails show it from now on."))
    return redirect(url_for(".show_settings"))


@bp.post("/settings/logo/remove")
def remove_shop_logo():
    """Show the shop's name instead of a logo from now on."""
    form = CsrfOnlyForm()
    if not form.validate():
        return _settings_page(_current_settings_form(), 422, logo_error=_("Please try again."))
    session = db.session()
    remove_logo(session, actor=acting_user(), now=clock.now())
    session.commit()
    flash(_("The logo is removed: customers see the shop's name instead."))
    return redirect(url_for(".show_settings"))
