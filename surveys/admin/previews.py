"""Admin: email previews: every email rendered with sample data, before it goes to anyone, in
any of the shipped languages (`?lang=es`)."""

from __future__ import annotations

from flask import abort, make_response, render_template, request
from flask_babel import force_locale

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.db import db
from surveys.formats import current_language
from surveys.i18n import shop_language
from surveys.languages import SHIPPED, is_right_to_left, language_choices
from surveys.mail import samples
from surveys.security_headers import email_html_preview_policy


@bp.get("/emails")
def list_email_previews():
    """Every email the service sends, to customers and to the team."""
    return render_template(
        "admin/list_email_previews.html",
        entries=samples.preview_entries(),
        languages=language_choices(),
        language=_chosen_language(),
    )


@bp.get("/emails/<name>")
def show_email_preview(name: str):
    """One email with sample data: its headers, the HTML as a mail app shows it, and the text."""
    entry = _entry_or_404(name)
    language = _chosen_language() or _usual_language(entry)
    return render_template(
        "admin/show_email_preview.html",
        preview=_render(entry, language),
        entries=samples.preview_entries(),
        languages=language_choices(),
        language=language,
        text_direction="rtl" if is_right_to_left(language) else "ltr",
    )


@bp.get("/emails/<name>/html")
def show_email_html(name: str):
    """The email's HTML alone, for the preview's frame: inline styles allowed, nothing else."""
    entry = _entry_or_404(name)
    preview = _render(entry, _chosen_language() or _usual_language(entry))
    if preview.error:
        abort(404)
    response = make_response(preview.html)
    # Its own policy: emails need inline styles (mail clients drop stylesheets), which the
    # site's policy forbids, and a frame's srcdoc would inherit that policy from the page.
    response.headers["Content-Security-Policy"] = email_html_preview_policy()
    response.headers["Cache-Control"] = "no-store"
    return response


def _chosen_language() -> str | None:
    """The shipped language of `?lang=`, or None (any other value is ignored)."""
    language = request.args.get("lang")
    return language if language in SHIPPED else None


def _usual_language(entry: samples.PreviewEntry) -> str:
    """Without a choice: a customer's email in the shop's language (what a customer whose
    language we do not know reads), the team's in the admin's own."""
    return shop_language() if entry.to_customer else current_language()


def _entry_or_404(name: str) -> samples.PreviewEntry:
    entry = samples.find_entry(name, request.args.get("variant") or None)
    if entry is None:
        abort(404)
    return entry


def _render(entry: samples.PreviewEntry, language: str) -> samples.Preview:
    # The email alone speaks `language`; the page around it stays in the admin's.
    with force_locale(language):
        return samples.render_preview(db.session(), entry, now=clock.now(), locale=language)
