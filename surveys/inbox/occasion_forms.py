"""Forms for dates that matter and gestures (customer and case pages). Each has a CSRF token."""

from __future__ import annotations

import calendar

from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from surveys.forms import AppForm, strip
from surveys.services.occasions import gestures
from surveys.services.occasions.dates import MAX_LABEL_LENGTH


def _small_number(value) -> int | None:
    # Anything but a few digits becomes -1, which the service refuses at the field.
    if isinstance(value, int) or value is None:
        return value
    text = str(value).strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else -1


def _label_field() -> StringField:
    return StringField(
        "What is it?",
        filters=[strip],
        validators=[
            DataRequired("Say what the date is, like “Emma’s graduation” or “birthday”."),
            Length(max=MAX_LABEL_LENGTH, message=f"Keep it under {MAX_LABEL_LENGTH} characters."),
        ],
    )


class RememberedDateForm(AppForm):
    label = _label_field()
    day = SelectField(
        "Day",
        coerce=_small_number,
        choices=[SelectChoice("", "Day")] + [SelectChoice(day, str(day)) for day in range(1, 32)],
        validate_choice=False,
    )
    month = SelectField(
        "Month",
        coerce=_small_number,
        choices=[SelectChoice("", "Month")]
        + [SelectChoice(month, calendar.month_name[month]) for month in range(1, 13)],
        validate_choice=False,
    )
    year = StringField(
        "Year (if known)",
        filters=[strip],
        validators=[Optional(), Length(max=4, message="A year has four digits.")],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    yearly = BooleanField("Every year", default=True)


class ConfirmDateSuggestionForm(AppForm):
    """One click: the label as suggested (editable), and whether it comes every year."""

    label = _label_field()
    yearly = BooleanField("Every year")


class GestureForm(AppForm):
    kind = SelectField(
        "What did you do?",
        choices=[SelectChoice("", "Choose")]
        + [SelectChoice(kind, words) for kind, words in gestures.KINDS.items()],
        validate_choice=False,
    )
    cost = StringField(
        "Cost (optional)",
        filters=[strip],
        validators=[Optional(), Length(max=20, message="Give the cost as an amount, like 12.50.")],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    note = TextAreaField(
        "Note (optional)",
        filters=[strip],
        validators=[
            Optional(),
            Length(
                max=gestures.MAX_NOTE_LENGTH,
                message=f"Keep it under {gestures.MAX_NOTE_LENGTH} characters.",
            ),
        ],
        render_kw={"rows": 2},
    )
