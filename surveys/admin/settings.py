"""Admin: settings: timing, case targets and the words customers see, each explained."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.forms import settings_form_class
from surveys.auth import acting_user
from surveys.db import db
from surveys.services import settings

# How the page groups the settings, in order.
GROUPS = (
    (
        "Sending surveys",
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
        "Looking after cases",
        ("acknowledge_hours", "resolve_hours", "fix_check_delay_days", "fix_check_days"),
    ),
    (
        "What customers see",
        ("default_language", "sender_name", "thank_you_message", "public_review_url"),
    ),
    ("The team", ("business_time_zone",)),
    ("Keeping records", ("outbox_retention_days",)),
)


def _settings_page(form, status: int = 200):
    grouped = [(title, [form[key] for key in keys if key in form]) for title, keys in GROUPS]
    return render_template(
        "admin/show_settings.html", form=form, groups=grouped, specs=settings.SPECS
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
        labels = ", ".join(settings.SPECS[key].label for key in changed)
        flash(f"Saved: {labels}.")
    else:
        flash("Nothing changed.")
    return redirect(url_for(".show_settings"))
