"""Forms of the owners' pages. Each carries a `csrf_token` (Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, TextAreaField
from wtforms.validators import DataRequired, Length

from surveys.services.case_workflow import MAX_RESOLUTION_LENGTH


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


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
