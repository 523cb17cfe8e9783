"""Admin: the words of every customer email, per language, with a preview for a sample customer.

The preview needs no script: "Preview" posts the draft, and the page that answers shows it in
the email preview's sandboxed frame (whose address carries the draft); "Save" stores it.
Every save and every return to the default is an audit entry, listed on the page as the
words' versions.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.forms import CsrfOnlyForm, EmailWordsForm
from surveys.auth import acting_user
from surveys.db import db
from surveys.languages import SHIPPED, html_lang, is_right_to_left, language_name
from surveys.mail import samples
from surveys.security_headers import email_html_preview_policy
from surveys.services import email_words

# The languages an admin may write words for: every shipped one, each named in itself.
EDITOR_LOCALES = {code: language_name(code) for code in SHIPPED}


@bp.get("/emails/words")
def list_email_words():
    """Every customer email whose words can be changed, and in which languages they were."""
    session = db.session()
    changed = {
        (row.email_key, row.locale) for row in session.scalars(email_words.select_all_wordings())
    }
    return render_template(
        "admin/list_email_words.html",
        emails=list(email_words.WORDED_EMAILS.values()),
        locales=EDITOR_LOCALES,
        changed=changed,
    )


@bp.get("/emails/words/<email_key>")
def edit_email_words(email_key: str):
    """The words of one email in one language, and the email as it goes out with them."""
    email, locale = _email_and_locale(email_key)
    words = email_words.words_for(db.session(), email, locale)
    form = EmailWordsForm(formdata=None, data=words)
    return _editor_page(email, locale, form, {})


@bp.post("/emails/words/<email_key>/preview")
def preview_email_words(email_key: str):
    """The editor again with the draft in the preview; nothing is saved."""
    email, locale = _email_and_locale(email_key)
    form = EmailWordsForm()
    errors = _draft_errors(email, form)
    return _editor_page(email, locale, form, errors, drafting=True, status=422 if errors else 200)


@bp.post("/emails/words/<email_key>")
def update_email_words(email_key: str):
    """Save the words (checked first: a bad placeholder is refused and nothing is saved)."""
    email, locale = _email_and_locale(email_key)
    form = EmailWordsForm()
    if not form.validate():
        return _editor_page(email, locale, form, {}, status=422)
    session = db.session()
    try:
        changed = email_words.save_words(
            session, email, locale, _draft(email, form), actor=acting_user(), now=clock.now()
        )
    except email_words.WordsInvalid as exc:
        session.rollback()
        return _editor_page(email, locale, form, exc.errors, status=422)
    session.commit()
    flash(
        _("Saved: this email goes out with these words from now on.")
        if changed
        else _("Nothing changed.")
    )
    return redirect(url_for(".edit_email_words", email_key=email.key, locale=locale))


@bp.post("/emails/words/<email_key>/restore")
def restore_email_words(email_key: str):
    """Go back to the default words of this email in this language."""
    email, locale = _email_and_locale(email_key)
    if not CsrfOnlyForm().validate():
        abort(400)
    session = db.session()
    restored = email_words.restore_default(
        session, email, locale, actor=acting_user(), now=clock.now()
    )
    session.commit()
    flash(
        _("The default words are back.") if restored else _("These were the default words already.")
    )
    return redirect(url_for(".edit_email_words", email_key=email.key, locale=locale))


@bp.get("/emails/words/<email_key>/html")
def show_email_words_html(email_key: str):
    """The email's HTML with the draft words (from the query string), for the preview's frame."""
    email, locale = _email_and_locale(email_key)
    form = EmailWordsForm(formdata=request.args, meta={"csrf": False})
    if not form.validate() or _draft_errors(email, form):
        abort(404)
    preview = _preview(email, locale, _draft(email, form))
    if preview.error:
        abort(404)
    response = make_response(preview.html)
    response.headers["Content-Security-Policy"] = email_html_preview_policy()
    response.headers["Cache-Control"] = "no-store"
    return response


def _email_and_locale(email_key: str):
    email = email_words.WORDED_EMAILS.get(email_key)
    locale = request.args.get("locale") or email_words.DEFAULT_LOCALE
    if email is None or locale not in EDITOR_LOCALES:
        abort(404)
    return email, locale


def _draft(email, form) -> dict[str, str]:
    return {field: form[field].data or "" for field in email.fields}


def _draft_errors(email, form) -> dict[str, list[str]]:
    if not form.validate():
        return {name: list(field.errors) for name, field in form._fields.items() if field.errors}
    try:
        email_words.check_words(email, _draft(email, form))
    except email_words.WordsInvalid as exc:
        return exc.errors
    return {}


def _preview(email, locale: str, draft: dict[str, str] | None):
    entry = samples.find_entry(email.template, email.variant)
    return samples.render_preview(db.session(), entry, now=clock.now(), locale=locale, draft=draft)


def _editor_page(email, locale, form, errors, *, drafting: bool = False, status: int = 200):
    session = db.session()
    # The words are written in the language being edited, which may read right to left
    # while the page around them is in the admin's own.
    text_direction = "rtl" if is_right_to_left(locale) else "ltr"
    for name in email.fields:
        form[name].render_kw = {
            **(form[name].render_kw or {}),
            "lang": html_lang(locale),
            "dir": text_direction,
        }
    draft = _draft(email, form) if drafting and not errors else None
    preview = _preview(email, locale, draft) if not errors else None
    frame_query = urlencode({"locale": locale, **(draft or {})}) if draft else None
    return render_template(
        "admin/edit_email_words.html",
        email=email,
        locale=locale,
        locales=EDITOR_LOCALES,
        form=form,
        errors=errors,
        drafting=drafting,
        preview=preview,
        frame_query=frame_query,
        placeholders={name: email_words.PLACEHOLDERS[name] for name in email.placeholders},
        labels=email_words.FIELD_LABELS,
        versions=email_words.versions(session, email, locale),
        is_default=email_words.stored_words(session, email, locale) is None,
        restore_form=CsrfOnlyForm(),
        text_direction=text_direction,
    ), status
