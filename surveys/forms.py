"""The base of every form of the people's pages: what any form refuses before its own checks.

Every form of the app inherits `AppForm` (a page's form, with its `csrf_token`) or
`AppSubform` (a form nested in another through `FormField`). Both

- read only the posted form fields (`request.form`). Flask-WTF would also merge the
  multipart file parts and a JSON body into the form data, and a file or a JSON object
  where a text field belongs reached our code as something that is not text (a 500).
  The app takes no upload through a form: a file part named like a field is refused
  (the form is shown again, the field marked), and a JSON body is no form at all.
- refuse, in every field, text that cannot be stored or sent as it is: a NUL byte
  (PostgreSQL cannot store one), a lone surrogate (no UTF-8 can encode one), control
  characters, and line breaks in single-line fields (names, addresses, keys; a line
  break in them could end up in a mail header). Only a text area takes line breaks.
  The check runs before the field's own validators, which so only ever see storable
  text, and its message is shown next to the field.
"""

from __future__ import annotations

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, TextAreaField
from wtforms.validators import StopValidation

from surveys.validation.text import unstorable_text_reason

# Our own "not given" marker: FlaskForm's would mean "the files and the JSON body too".
_FROM_REQUEST = object()


NOT_A_FILE = _l("This field must be text, not a file.")
# What `unstorable_text_reason` finds, as the sentence shown next to the field.
_UNSTORABLE = {
    "must not contain control characters": _l("This field must not contain control characters."),
    "must be a single line": _l("This field must be a single line."),
    "must not contain NUL characters": _l("This field must not contain NUL characters."),
    "must be valid Unicode text (it contains a lone surrogate)": _l(
        "This field must be valid Unicode text (it contains a lone surrogate)."
    ),
}


def strip(value: str | None) -> str | None:
    """A filter: the text without the spaces and line breaks around it (None stays None)."""
    return value.strip() if isinstance(value, str) else value


def refuse_unstorable_text(_form, field) -> None:
    """A validator: stop at the first submitted value that cannot be stored as it is."""
    if has_request_context() and field.name in request.files:
        raise StopValidation(str(NOT_A_FILE))
    multiline = isinstance(field, TextAreaField)
    for value in field.raw_data or ():
        if not isinstance(value, str):
            raise StopValidation(str(NOT_A_FILE))
        reason = unstorable_text_reason(value, multiline=multiline)
        if reason:
            raise StopValidation(str(_UNSTORABLE.get(reason, f"This field {reason}.")))


class _RefusesUnstorableText:
    """Meta behaviour shared by both bases: every field's validation starts with the check."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        # A nested form checks its own fields (it is an AppSubform); a list's
        # entries are nested forms too.
        if not isinstance(field, FormField | FieldList):
            field.validators = [refuse_unstorable_text, *field.validators]
        return field


class AppForm(FlaskForm):
    """A form of the people's pages: posted fields only, storable text only, a CSRF token."""

    class Meta(_RefusesUnstorableText, FlaskForm.Meta):
        pass

    def __init__(self, formdata=_FROM_REQUEST, **kwargs):
        if formdata is _FROM_REQUEST:
            # As Flask-WTF does, an empty or unsubmitted form keeps its defaults (formdata None).
            formdata = request.form if self.is_submitted() and request.form else None
        super().__init__(formdata=formdata, **kwargs)


class AppSubform(Form):
    """A form nested in an AppForm through FormField: storable text only."""

    class Meta(_RefusesUnstorableText, Form.Meta):
        pass
