"""Forms of the owners' pages. Each carries a `csrf_token` (Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from surveys.services.case_workflow import (
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    MAX_REPLY_LENGTH,
    MAX_RESOLUTION_LENGTH,
)
from surveys.services.customers import MAX_NOTE_LENGTH as MAX_CUSTOMER_NOTE_LENGTH


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _optional_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class LoginForm(FlaskForm):
    # No syntax check on the address: a mistyped one simply does not match,
    # and gets the same answer as a wrong password.
    email = EmailField("Email", filters=[_strip],
                       validators=[DataRequired("Enter your email address."), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none",
                                  "spellcheck": "false"})
    password = PasswordField("Password",
                             validators=[DataRequired("Enter your password."), Length(max=1000)],
                             render_kw={"autocomplete": "current-password"})


class AcknowledgeForm(FlaskForm):
    """One click: only the CSRF token."""


class ResolveForm(FlaskForm):
    resolution = TextAreaField(
        "What did you do to fix it?",
        filters=[_strip],
        validators=[
            DataRequired("Say what you did to fix it."),
            Length(max=MAX_RESOLUTION_LENGTH,
                   message=f"Keep it under {MAX_RESOLUTION_LENGTH} characters."),
        ],
        render_kw={"rows": 4},
    )


class ReplyForm(FlaskForm):
    message = TextAreaField(
        "Your reply",
        filters=[_strip],
        validators=[
            DataRequired("Write your reply to the customer."),
            Length(max=MAX_REPLY_LENGTH, message=f"Keep it under {MAX_REPLY_LENGTH} characters."),
        ],
        render_kw={"rows": 8},
    )


class NoteForm(FlaskForm):
    body = TextAreaField(
        "Note",
        filters=[_strip],
        validators=[
            DataRequired("Write the note."),
            Length(max=MAX_NOTE_LENGTH, message=f"Keep it under {MAX_NOTE_LENGTH} characters."),
        ],
        render_kw={"rows": 3},
    )


class ReassignForm(FlaskForm):
    # Choices are the people who could take the case, set by the view; whether the
    # one chosen may take it is the service's question (it names the problem).
    owner_id = SelectField("New owner", coerce=_optional_int, validate_choice=False)
    reason = TextAreaField(
        "Why does it move?",
        filters=[_strip],
        validators=[
            DataRequired("Say why the case moves: the new owner should not have to ask."),
            Length(max=MAX_REASON_LENGTH,
                   message=f"Keep it under {MAX_REASON_LENGTH} characters."),
        ],
        render_kw={"rows": 3},
    )


class CustomerNoteForm(FlaskForm):
    body = TextAreaField(
        "Something to remember",
        filters=[_strip],
        validators=[
            DataRequired("Write what you want everyone to remember."),
            Length(max=MAX_CUSTOMER_NOTE_LENGTH,
                   message=f"Keep it under {MAX_CUSTOMER_NOTE_LENGTH} characters."),
        ],
        render_kw={"rows": 2},
    )
