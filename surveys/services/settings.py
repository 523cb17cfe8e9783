"""Admin-editable settings with their defaults (timing, targets, the words customers see).

Each setting's spec carries its default, the words the settings page shows, and
the range of values that make sense; `clean_setting_value` is the one place that
decides whether a value may be stored, for the page and for any other caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.languages import SHIPPED
from surveys.models import Setting, User
from surveys.services.audit import record_admin_change
from surveys.validation.addresses import read_email
from surveys.validation.codes import known_timezones
from surveys.validation.colours import HEX_COLOUR, MINIMUM_CONTRAST, contrast_with_white

# Kinds of value: whole numbers in a range, a local time of day, a line of text,
# a paragraph, a user's id (or none), a question set's key, an IANA time zone name,
# an https:// address on the web (or none: empty), a language we ship, a hex colour
# (readable under white text) and an email address.
KINDS = (
    "int",
    "time",
    "line",
    "paragraph",
    "user",
    "question_set",
    "time_zone",
    "https_url",
    "language",
    "colour",
    "email",
)
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def N_(text: str) -> str:
    """Marks a default for the catalogs; the page translates it while it is not changed."""
    return text


class SettingError(ValueError):
    """A value a setting cannot take; the message says why, in the admin's words."""


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: object
    # Lazy translations: the page shows them in the reader's language.
    label: str
    explanation: str
    kind: str = "int"
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    # False for settings edited on their own page (routing, question sets).
    on_settings_page: bool = True
    # For a line of text that must have a shape (a currency code): the pattern, and why.
    pattern: str | None = None
    pattern_message: str | None = None
    # A text setting that may be left empty: empty means "use what the explanation says".
    optional: bool = False


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            "survey_delay_minutes",
            0,
            _l("Survey delay (minutes)"),
            _l("How long after a purchase the survey is sent; 0 sends it right away."),
            minimum=0,
            maximum=7 * 24 * 60,
        ),
        SettingSpec(
            "reminder_delay_hours",
            72,
            _l("Reminder delay (hours)"),
            _l("One reminder goes this long after an unanswered survey; 0 turns reminders off."),
            minimum=0,
            maximum=28 * 24,
        ),
        SettingSpec(
            "throttle_days",
            30,
            _l("Throttle window (days)"),
            _l("A customer gets at most one purchase survey in this many days."),
            minimum=0,
            maximum=365,
        ),
        SettingSpec(
            "autopilot_interval_days",
            90,
            _l("Autopilot interval (days)"),
            _l(
                "Customers in Autopilot (added through the Delighted-compatible API) are invited "
                "to the relationship review this often; the throttle and unsubscribes still hold."
            ),
            minimum=1,
            maximum=730,
        ),
        SettingSpec(
            "age_limit_days",
            30,
            _l("Age limit (days)"),
            _l("Purchases older than this when they reach us are not surveyed."),
            minimum=1,
            maximum=365,
        ),
        SettingSpec(
            "quiet_hours_start",
            "21:00",
            _l("Quiet hours start"),
            _l(
                "From this local time, mail to customers whose time zone we know waits for "
                "the morning."
            ),
            kind="time",
        ),
        SettingSpec(
            "quiet_hours_end",
            "08:00",
            _l("Quiet hours end"),
            _l("Held mail goes out at this local time."),
            kind="time",
        ),
        SettingSpec(
            "business_time_zone",
            "UTC",
            _l("Business time zone"),
            _l(
                "An IANA name such as Europe/Madrid. The weekly digest reaches people who have not "
                "chosen their own time zone on Monday morning in this one."
            ),
            kind="time_zone",
        ),
        SettingSpec(
            "default_language",
            "en",
            _l("Default language"),
            _l(
                "Customers whose language we were not told, and people who have not chosen their "
                "own, read pages and emails in this language."
            ),
            kind="language",
        ),
        SettingSpec(
            "acknowledge_hours",
            4,
            _l("Acknowledge within (hours)"),
            _l("A case not acknowledged in this time is escalated to its owner and the admins."),
            minimum=1,
            maximum=30 * 24,
        ),
        SettingSpec(
            "resolve_hours",
            48,
            _l("Resolve within (hours)"),
            _l("A case not resolved in this time is escalated to its owner and the admins."),
            minimum=1,
            maximum=90 * 24,
        ),
        SettingSpec(
            "fix_check_days",
            7,
            _l("Fix-check answer window (days)"),
            _l(
                "A resolved case whose fix-check survey is unanswered this long is closed as "
                "unconfirmed."
            ),
            minimum=1,
            maximum=30,
        ),
        SettingSpec(
            "fix_check_delay_days",
            2,
            _l("Ask whether the fix worked after (days)"),
            _l(
                "When a case is resolved, the owner chooses when we ask the customer whether the "
                "fix worked; this is what the form suggests. 0 asks right away."
            ),
            minimum=0,
            maximum=30,
        ),
        SettingSpec(
            "outbox_retention_days",
            90,
            _l("Keep delivered outbox rows (days)"),
            _l(
                "Sent and cancelled emails and webhooks are deleted from the outbox this long "
                "after they went; failed and waiting ones stay. The dashboard's figures do not "
                "change."
            ),
            minimum=7,
            maximum=3650,
        ),
        SettingSpec(
            "date_reminder_days",
            7,
            _l("Remind of a customer's date (days before)"),
            _l(
                "The account owner is emailed this many days before a date that matters to their "
                "customer (a birthday, a graduation); 0 reminds on the day itself."
            ),
            minimum=0,
            maximum=60,
        ),
        SettingSpec(
            "shop_currency",
            "USD",
            _l("Shop currency"),
            _l("The currency of gesture costs and allowances, as a three-letter code (EUR, USD)."),
            kind="line",
            max_length=3,
            pattern=r"[A-Z]{3}",
            pattern_message=_l("Use a three-letter currency code, like EUR or USD."),
        ),
        SettingSpec(
            "shop_name",
            "Our shop",
            _l("Shop name"),
            _l(
                "Your shop's name as customers know it: it heads their pages and signs their "
                "emails."
            ),
            kind="line",
            max_length=100,
        ),
        SettingSpec(
            "sender_name",
            "",
            _l("Sender name"),
            _l("The name customers see as the sender of their emails; empty uses the shop name."),
            kind="line",
            max_length=100,
            optional=True,
        ),
        SettingSpec(
            "sender_address",
            "",
            _l("Sender address"),
            _l(
                "The address customers' emails come from; empty uses the server's MAIL_FROM. "
                "Use an address of a domain your mail service is allowed to send for."
            ),
            kind="email",
            max_length=254,
            optional=True,
        ),
        SettingSpec(
            "accent_colour",
            "#b4233c",
            _l("Accent colour"),
            _l(
                "The colour of buttons and links on customers' pages and emails, as #rrggbb. It "
                "must keep white text on it readable (a contrast of at least 4.5 to 1)."
            ),
            kind="colour",
            max_length=7,
        ),
        SettingSpec(
            "signature",
            "",
            _l("Signature"),
            _l(
                "How the shop signs its emails to customers, a few lines; empty signs "
                "\u201cWarmly,\u201d and the shop name."
            ),
            kind="paragraph",
            max_length=500,
            optional=True,
        ),
        SettingSpec(
            "thank_you_message",
            N_(
                "Thank you for telling us. Every answer is read by a person, and if something "
                "is not right, the one person who owns it will be in touch with you personally."
            ),
            _l("Thank-you message"),
            _l("Shown to the customer after they answer a survey."),
            kind="paragraph",
            max_length=1000,
        ),
        SettingSpec(
            "public_review_url",
            "",
            _l("Public review link"),
            _l(
                "Where customers can review you in public (your Google Business profile, "
                "Trustpilot…), as an https:// address. The thank-you page offers it to everyone "
                "who answers, happy or not: review sites forbid asking only the happy ones. "
                "Empty offers none."
            ),
            kind="https_url",
            max_length=500,
        ),
        SettingSpec(
            "default_owner_id",
            None,
            _l("Default owner"),
            _l(
                "Owns cases no account owner or routing rule claims; the earliest admin until "
                "chosen."
            ),
            kind="user",
            on_settings_page=False,
        ),
        SettingSpec(
            "purchase_question_set",
            "heart-to-heart",
            _l("Question set after a purchase"),
            _l("The set sent after a purchase unless an item category chooses another."),
            kind="question_set",
            on_settings_page=False,
        ),
    )
}


def get_setting(session: Session, key: str):
    """The stored value of a setting, or its default."""
    spec = SPECS[key]
    row = session.get(Setting, key)
    return spec.default if row is None else row.value


# Built once: every purchase reads the settings.
_STORED_SETTINGS = select(Setting.key, Setting.value)


def all_settings(session: Session) -> dict[str, object]:
    """Every setting, stored values over defaults, in one query."""
    values = {key: spec.default for key, spec in SPECS.items()}
    # Plain columns, read through the connection: the ORM has nothing to add here.
    for key, value in session.connection().execute(_STORED_SETTINGS):
        if key in values:
            values[key] = value
    return values


def set_setting(session: Session, key: str, value) -> None:
    """Store a setting's value; raises SettingError when the value does not fit the setting."""
    if key not in SPECS:
        raise KeyError(key)
    value = clean_setting_value(key, value)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()


def clean_setting_value(key: str, value):
    """The value as it is stored (an int, "HH:MM", text), or SettingError saying what is wrong."""
    spec = SPECS[key]
    if spec.kind == "int":
        return _clean_int(spec, value)
    if spec.kind == "time":
        text = str(value or "").strip()
        if not TIME_PATTERN.match(text):
            raise SettingError(_("Enter a time of day as HH:MM, for example 08:30."))
        return text
    if spec.optional and not str(value or "").strip():
        return ""
    if spec.kind in ("line", "paragraph"):
        return _clean_text(spec, value)
    if spec.kind == "colour":
        return clean_accent_colour(value)
    if spec.kind == "email":
        return _clean_email(value)
    if spec.kind == "user":
        if value in (None, ""):
            return None
        return _clean_int(spec, value)
    if spec.kind == "time_zone":
        text = str(value or "").strip()
        if text not in known_timezones():
            raise SettingError(_("Enter an IANA time zone name, for example Europe/Madrid."))
        return text
    if spec.kind == "https_url":
        return _clean_https_url(spec, value)
    if spec.kind == "language":
        text = str(value or "").strip()
        if text not in SHIPPED:
            raise SettingError(_("Choose one of the languages we ship."))
        return text
    if spec.kind == "question_set":
        text = str(value or "").strip()
        if not text:
            raise SettingError(_("Choose a question set."))
        return text
    raise SettingError(f"Unknown kind of setting: {spec.kind}")


def _clean_int(spec: SettingSpec, value) -> int:
    if isinstance(value, bool):
        raise SettingError(_("Enter a whole number."))
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise SettingError(_("Enter a whole number.")) from None
    if spec.minimum is not None and number < spec.minimum:
        raise SettingError(_("Enter %(minimum)s or more.", minimum=spec.minimum))
    if spec.maximum is not None and number > spec.maximum:
        raise SettingError(_("Enter at most %(maximum)s.", maximum=spec.maximum))
    return number


def _clean_text(spec: SettingSpec, value) -> str:
    text = str(value or "").strip()
    if spec.kind == "paragraph":
        text = text.replace("\r\n", "\n")
    if not text:
        raise SettingError(_("This cannot be empty."))
    if spec.max_length is not None and len(text) > spec.max_length:
        raise SettingError(_("Keep it to %(count)s characters or fewer.", count=spec.max_length))
    if spec.kind == "line" and (any(ch in text for ch in '\r\n<>"') or not text.isprintable()):
        # It goes into an email header: one plain line, no angle brackets or quotes.
        raise SettingError(_("Use one plain line, without quotes or angle brackets."))
    if spec.pattern is not None and not re.fullmatch(spec.pattern, text):
        raise SettingError(str(spec.pattern_message or _("This does not have the expected form.")))
    return text


def _clean_https_url(spec: SettingSpec, value) -> str:
    """An absolute https:// address with a host, or "" for none."""
    text = str(value or "").strip()
    if not text:
        return ""
    if spec.max_length is not None and len(text) > spec.max_length:
        raise SettingError(_("Keep it to %(count)s characters or fewer.", count=spec.max_length))
    if not text.isprintable() or any(character.isspace() for character in text):
        raise SettingError(_("An address cannot contain spaces or line breaks."))
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise SettingError(_("That is not a web address.")) from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise SettingError(
            _("Give an https:// address, like https://www.trustpilot.com/review/shop.example.")
        )
    if parts.username is not None or parts.password is not None:
        raise SettingError(_("Leave any user name and password out of a public address."))
    return text


def clean_accent_colour(value) -> str:
    """`#rrggbb` in lower case, or SettingError when it is not one or white text is unreadable."""
    text = str(value or "").strip()
    if not HEX_COLOUR.match(text):
        raise SettingError(_("Enter a colour as # and six hexadecimal digits, like #b4233c."))
    ratio = contrast_with_white(text)
    if ratio < MINIMUM_CONTRAST:
        raise SettingError(
            _(
                "White text on %(colour)s has a contrast of %(ratio)s to 1; it needs at least "
                "%(minimum)s to 1 to be readable. Choose a darker colour.",
                colour=text,
                ratio=format_decimal(ratio, "0.0"),
                minimum=format_decimal(MINIMUM_CONTRAST),
            )
        )
    return text.lower()


def _clean_email(value) -> str:
    try:
        return read_email(value)
    except PydanticCustomError:
        # The validator's reasons are English only; one sentence says it in every language.
        raise SettingError(
            _("This is not a valid email address; write it like hello@shop.example.")
        ) from None


def page_specs() -> list[SettingSpec]:
    """The settings edited on /admin/settings, in the order the page shows them."""
    return [spec for spec in SPECS.values() if spec.on_settings_page]


class SettingsInvalid(ValueError):
    """Some values of the settings page cannot be stored; `errors` maps keys to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{key}: {' '.join(m)}" for key, m in errors.items()))
        self.errors = errors


def update_settings(
    session: Session, values: dict[str, object], *, actor: User, now: datetime
) -> list[str]:
    """Store the settings page's values and return the keys that changed.

    Every value is checked first (SettingsInvalid, and nothing is stored, if any
    is wrong). Only values that differ are written, each with one audit entry
    holding its before and after.
    """
    current = all_settings(session)
    cleaned: dict[str, object] = {}
    errors: dict[str, list[str]] = {}
    for key, raw in values.items():
        try:
            cleaned[key] = clean_setting_value(key, raw)
        except SettingError as exc:
            errors[key] = [str(exc)]
    errors.update(_cross_field_errors({**current, **cleaned}, errors))
    if errors:
        raise SettingsInvalid(errors)
    changed = []
    for key, value in cleaned.items():
        if value == current[key]:
            continue
        set_setting(session, key, value)
        record_admin_change(
            session,
            actor_user=actor,
            action="setting.changed",
            target=f"setting {key}",
            before={key: current[key]},
            after={key: value},
            now=now,
        )
        changed.append(key)
    return changed


def _cross_field_errors(values: dict, errors: dict) -> dict[str, list[str]]:
    """Rules between two settings, checked only when both values are themselves valid."""
    found: dict[str, list[str]] = {}
    if "quiet_hours_start" not in errors and "quiet_hours_end" not in errors:
        if values["quiet_hours_start"] == values["quiet_hours_end"]:
            found["quiet_hours_end"] = [
                _("Quiet hours must end at a different time than they start.")
            ]
    if "acknowledge_hours" not in errors and "resolve_hours" not in errors:
        if int(values["resolve_hours"]) < int(values["acknowledge_hours"]):
            found["resolve_hours"] = [
                _("The resolve target cannot be shorter than the acknowledge target.")
            ]
    return found
