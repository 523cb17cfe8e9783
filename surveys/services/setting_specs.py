"""Every admin-editable setting: its key, default, kind, range and the words the settings page
shows for it (lazy: in the reader's language). `surveys.services.settings` reads, cleans and
stores the values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

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
