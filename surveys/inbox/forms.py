"""Forms of the owners' pages. Each carries a `csrf_token` (Flask-WTF)."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext, ngettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from surveys.forms import AppForm, strip
from surveys.languages import language_choices, language_name
from surveys.services.cases.actions import (
    MAX_ASK_IN_DAYS,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    MAX_RESOLUTION_LENGTH,
)
from surveys.services.cases.inbox import MAX_SEARCH_LENGTH
from surveys.services.cases.replies import MAX_UNDERSTOOD_LENGTH, MAX_WILL_DO_LENGTH
from surveys.services.customers.goodbyes import MAX_LETTER_LENGTH
from surveys.services.customers.ledger import OWNER_CONTACTS
from surveys.services.customers.profile import MAX_NOTE_LENGTH as MAX_CUSTOMER_NOTE_LENGTH
from surveys.services.customers.touchpoints import MAX_NOTE_LENGTH as MAX_TOUCH_NOTE_LENGTH
from surveys.services.occasions.gestures import KINDS as GESTURE_KINDS
from surveys.web_input import database_id


def _optional_id(value) -> int | None:
    # WTForms coerces the chosen value and the choices alike: ints stay ints.
    return value if isinstance(value, int) else database_id(value)


def written_text(
    label, *, missing, max_length: int, rows: int, field_id: str | None = None
) -> TextAreaField:
    """A required text box whose errors say what to write and how much fits."""
    return TextAreaField(
        label,
        id=field_id,
        filters=[strip],
        validators=[
            DataRequired(missing),
            Length(max=max_length, message=_l("Keep it under %(max)d characters.", max=max_length)),
        ],
        render_kw={"rows": rows},
    )


class LoginForm(AppForm):
    # No syntax check on the address: a mistyped one simply does not match,
    # and gets the same answer as a wrong password.
    email = EmailField(
        lazy_gettext("Email"),
        filters=[strip],
        validators=[DataRequired(lazy_gettext("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired(lazy_gettext("Enter your password.")), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )


class AccountSettingsForm(AppForm):
    """A person's own settings: the weekly digest and their time zone."""

    weekly_digest = BooleanField(lazy_gettext("Email me the weekly digest on Monday mornings"))
    # "" follows the business time zone; `with_zones` fills in the choices.
    time_zone = SelectField(lazy_gettext("My time zone"), validate_choice=False)
    # "" follows the shop's default language; `with_languages` fills in the choices.
    language = SelectField(
        lazy_gettext("My language"), validate_choice=False, filters=[lambda value: value or ""]
    )

    def with_languages(self, shop_language: str) -> AccountSettingsForm:
        shipped = [SelectChoice(code, name) for code, name in language_choices()]
        self.language.choices = [
            SelectChoice(
                "",
                lazy_gettext("Shop default (%(language)s)", language=language_name(shop_language)),
            )
        ] + shipped
        self.language.validators = [
            *self.language.validators,
            AnyOf(
                ["", *(choice.value for choice in shipped)],
                message=lazy_gettext("Choose a language from the list."),
            ),
        ]
        return self

    def with_zones(self, zones: list[str], business_zone: str) -> AccountSettingsForm:
        self.time_zone.choices = [
            ("", lazy_gettext("Business default (%(zone)s)", zone=business_zone))
        ] + [(zone, zone.replace("_", " ")) for zone in zones]
        self.time_zone.validators = [
            *self.time_zone.validators,
            AnyOf(["", *zones], message=lazy_gettext("Choose a time zone from the list.")),
        ]
        return self


class AcknowledgeForm(AppForm):
    """One click: only the CSRF token."""


def _ask_in_days(value) -> int | None:
    # Not chosen: None, the setting's default. Anything but a small number becomes -1,
    # which the service refuses with the message the page shows beside the choice.
    if isinstance(value, int) or value is None:
        return value
    text = str(value).strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else -1


def ask_in_days_choices() -> list[SelectChoice]:
    """Now, or in 1 to MAX_ASK_IN_DAYS days, counted in the reader's language (each form
    builds them as it is made, in its request)."""
    return [SelectChoice(0, gettext("Now"))] + [
        SelectChoice(days, ngettext("In %(num)d day", "In %(num)d days", days))
        for days in range(1, MAX_ASK_IN_DAYS + 1)
    ]


class ResolveForm(AppForm):
    resolution = written_text(
        _l("What was done"),
        missing=_l("Say what you did to fix it."),
        max_length=MAX_RESOLUTION_LENGTH,
        rows=4,
    )
    ask_in_days = SelectField(
        _l("When to ask whether it worked"),
        coerce=_ask_in_days,
        choices=ask_in_days_choices,
        validate_choice=False,
    )
    # Optional: the gesture that went with the fix (surveys.services.occasions.gestures).
    gesture_kind = SelectField(
        _l("A gesture that went with it (optional)"),
        id="resolve-gesture-kind",
        choices=[SelectChoice("", _l("None"))]
        + [SelectChoice(kind, _l(words)) for kind, words in GESTURE_KINDS.items()],
        validate_choice=False,
    )
    gesture_cost = StringField(
        _l("What it cost (optional)"),
        id="resolve-gesture-cost",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=20, message=_l("Give the cost as an amount, like 12.50.")),
        ],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class ReplyForm(AppForm):
    """The two parts of a reply; the service refuses a paraphrase that copies the customer."""

    understood = written_text(
        _l("What I understood"),
        missing=_l("Say in your own words what you understood from what they wrote."),
        max_length=MAX_UNDERSTOOD_LENGTH,
        rows=4,
    )
    will_do = written_text(
        _l("What I will do"),
        missing=_l("Say what you will do about it, and by when."),
        max_length=MAX_WILL_DO_LENGTH,
        rows=4,
    )


class NoteForm(AppForm):
    body = written_text(
        _l("Note"), missing=_l("Write the note."), max_length=MAX_NOTE_LENGTH, rows=3
    )


class ReassignForm(AppForm):
    # Choices are the people who could take the case, set by the view; whether the
    # one chosen may take it is the service's question (it names the problem).
    owner_id = SelectField(_l("New owner"), coerce=_optional_id, validate_choice=False)
    reason = written_text(
        _l("Why does it move?"),
        missing=_l("Say why the case moves: the new owner should not have to ask."),
        max_length=MAX_REASON_LENGTH,
        rows=3,
    )


class CustomerNoteForm(AppForm):
    body = written_text(
        lazy_gettext("Something to remember"),
        missing=lazy_gettext("Write what you want everyone to remember."),
        max_length=MAX_CUSTOMER_NOTE_LENGTH,
        rows=2,
        # The case page shows it beside the case's own note box (also `body`): its own id
        # keeps each label, hint and error list tied to the right box.
        field_id="customer_note_body",
    )


class ContactForm(AppForm):
    """A call, visit or card the owner made, for the customer's ledger."""

    kind = SelectField(
        lazy_gettext("What was it?"),
        choices=[SelectChoice(key, words) for key, words in OWNER_CONTACTS.items()],
        validate_choice=True,
    )
    polarity = RadioField(
        lazy_gettext("How did it go for them?"),
        choices=[
            SelectChoice("positive", lazy_gettext("Well: they were glad of it")),
            SelectChoice("neutral", lazy_gettext("Neither: we only asked or told")),
            SelectChoice("negative", lazy_gettext("Badly: it was bad news or a complaint")),
        ],
        default="positive",
        validators=[DataRequired(lazy_gettext("Say how it went for them."))],
    )
    note = TextAreaField(
        lazy_gettext("Note"),
        filters=[strip],
        validators=[Length(max=MAX_TOUCH_NOTE_LENGTH, message=lazy_gettext("Keep it short."))],
        render_kw={"rows": 2},
        id="contact_note",
    )


class GoodbyeLetterForm(AppForm):
    letter = written_text(
        lazy_gettext("Your letter"),
        missing=lazy_gettext("Write the letter the customer will read."),
        max_length=MAX_LETTER_LENGTH,
        rows=10,
    )


class InboxSearchForm(AppForm):
    """The inbox's search box, sent with GET (nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(
        lazy_gettext("Search by name, email or order id"),
        filters=[strip],
        validators=[
            Optional(),
            Length(
                max=MAX_SEARCH_LENGTH,
                message=lazy_gettext("Keep it under %(max)d characters.", max=MAX_SEARCH_LENGTH),
            ),
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
