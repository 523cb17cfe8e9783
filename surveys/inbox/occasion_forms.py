"""Forms for dates that matter and gestures (customer and case pages). Each has a CSRF token."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
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


def _months() -> list[SelectChoice]:
    """The months by name in the reader's language ("June", "junio"), as a list names them."""
    return [SelectChoice("", _l("Month"))] + [
        SelectChoice(month, format_date(date(2000, month, 1), "LLLL")) for month in range(1, 13)
    ]


def _label_field() -> StringField:
    return StringField(
        _l("What is it?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Say what the date is, like “Emma’s graduation” or “birthday”.")),
            Length(
                max=MAX_LABEL_LENGTH,
                message=_l("Keep it under %(max)d characters.", max=MAX_LABEL_LENGTH),
            ),
        ],
    )


class RememberedDateForm(AppForm):
    label = _label_field()
    day = SelectField(
        _l("Day"),
        coerce=_small_number,
        choices=[SelectChoice("", _l("Day"))]
        + [SelectChoice(day, str(day)) for day in range(1, 32)],
        validate_choice=False,
    )
    # Called for each form, so the months are named in the language of the page.
    month = SelectField(_l("Month"), coerce=_small_number, choices=_months, validate_choice=False)
    year = StringField(
        _l("Year (if known)"),
        filters=[strip],
        validators=[Optional(), Length(max=4, message=_l("A year has four digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    yearly = BooleanField(_l("Every year"), default=True)


class ConfirmDateSuggestionForm(AppForm):
    """One click: the label as suggested (editable), and whether it comes every year."""

    label = _label_field()
    yearly = BooleanField(_l("Every year"))


class GestureForm(AppForm):
    kind = SelectField(
        _l("What did you do?"),
        choices=[SelectChoice("", _l("Choose"))]
        + [SelectChoice(kind, _l(words)) for kind, words in gestures.KINDS.items()],
        validate_choice=False,
    )
    cost = StringField(
        _l("Cost (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=20, message=_l("Give the cost as an amount, like 12.50.")),
        ],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    note = TextAreaField(
        _l("Note (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(
                max=gestures.MAX_NOTE_LENGTH,
                message=_l("Keep it under %(max)d characters.", max=gestures.MAX_NOTE_LENGTH),
            ),
        ],
        render_kw={"rows": 2},
    )
