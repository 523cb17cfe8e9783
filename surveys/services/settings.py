"""Admin-editable settings with their defaults (timing, targets, the words customers see).

Each setting's spec (surveys/services/setting_specs.py) carries its default, the words the
settings page shows, and the range of values that make sense; `clean_setting_value` is the one
place that decides whether a value may be stored, for the page and for any other caller.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import format_decimal
from flask_babel import gettext as _
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.languages import SHIPPED
from surveys.models import Setting, User
from surveys.services.audit import record_admin_change
from surveys.services.setting_specs import SPECS, TIME_PATTERN, SettingSpec
from surveys.validation.addresses import read_email
from surveys.validation.codes import known_timezones
from surveys.validation.colours import HEX_COLOUR, MINIMUM_CONTRAST, contrast_with_white


class SettingError(ValueError):
    """A value a setting cannot take; the message says why, in the admin's words."""


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
