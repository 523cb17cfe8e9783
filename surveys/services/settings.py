"""Admin-editable settings with their defaults (CONTRACT §2 "Timing settings")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Setting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: object
    label: str
    explanation: str


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            "survey_delay_minutes", 0, "Survey delay (minutes)",
            "How long after a purchase the survey is sent; 0 sends it right away.",
        ),
        SettingSpec(
            "reminder_delay_hours", 72, "Reminder delay (hours)",
            "One reminder goes this long after an unanswered survey; 0 turns reminders off.",
        ),
        SettingSpec(
            "throttle_days", 30, "Throttle window (days)",
            "A customer gets at most one purchase survey in this many days.",
        ),
        SettingSpec(
            "age_limit_days", 30, "Age limit (days)",
            "Purchases older than this when they reach us are not surveyed.",
        ),
        SettingSpec(
            "quiet_hours_start", "21:00", "Quiet hours start",
            "From this local time, mail to customers whose time zone we know waits for the morning.",
        ),
        SettingSpec(
            "quiet_hours_end", "08:00", "Quiet hours end",
            "Held mail goes out at this local time.",
        ),
        SettingSpec(
            "acknowledge_hours", 4, "Acknowledge within (hours)",
            "A case not acknowledged in this time is escalated to its owner and the admins.",
        ),
        SettingSpec(
            "resolve_hours", 48, "Resolve within (hours)",
            "A case not resolved in this time is escalated to its owner and the admins.",
        ),
        SettingSpec(
            "fix_check_days", 7, "Fix-check answer window (days)",
            "A resolved case whose fix-check survey is unanswered this long is closed as unconfirmed.",
        ),
        SettingSpec(
            "sender_name", "Heart to Heart", "Sender name",
            "The name customers see on survey emails.",
        ),
        SettingSpec(
            "thank_you_message",
            "Thank you for telling us. Every answer is read by a person, and if something "
            "is not right, the one person who owns it will be in touch with you personally.",
            "Thank-you message",
            "Shown to the customer after they answer a survey.",
        ),
        SettingSpec(
            "default_owner_id", None, "Default owner",
            "Owns cases no account owner or routing rule claims; the earliest admin until chosen.",
        ),
        SettingSpec(
            "purchase_question_set", "heart-to-heart", "Question set after a purchase",
            "The set sent after a purchase unless an item category chooses another.",
        ),
    )
}


def get_setting(session: Session, key: str):
    """The stored value of a setting, or its default."""
    spec = SPECS[key]
    row = session.get(Setting, key)
    return spec.default if row is None else row.value


def all_settings(session: Session) -> dict[str, object]:
    """Every setting, stored values over defaults."""
    values = {key: spec.default for key, spec in SPECS.items()}
    for row in session.scalars(select(Setting)):
        if row.key in values:
            values[row.key] = row.value
    return values


def set_setting(session: Session, key: str, value) -> None:
    """Store a setting's value (validation is the caller's form's job)."""
    if key not in SPECS:
        raise KeyError(key)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()
