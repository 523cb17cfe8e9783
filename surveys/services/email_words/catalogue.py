"""Which customer emails have words an admin may edit, their placeholders and default words."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from surveys import languages

# The language whose words are the defaults' source text (the msgids of the catalogs).
DEFAULT_LOCALE = languages.FALLBACK


def N_(text: str) -> str:
    """Marks a default for the catalogs (`make catalog`); `default_words` translates it."""
    return text


FIELDS = ("subject", "preheader", "greeting", "paragraphs", "closing")
# What the editor calls each field, and what each placeholder stands for: in the admin's language.
FIELD_LABELS = {
    "subject": _l("Subject"),
    "preheader": _l("Preheader (the line a mail app shows after the subject)"),
    "greeting": _l("Greeting"),
    "paragraphs": _l("Paragraphs (a blank line between two)"),
    "closing": _l("After the links"),
}
# One line for the subject and preheader and greeting, a few paragraphs for the others.
ONE_LINE_FIELDS = ("subject", "preheader", "greeting")
MAX_LENGTH = {"subject": 200, "preheader": 200, "greeting": 100, "paragraphs": 3000}
PLACEHOLDERS = {
    "first_name": _l("the customer's first name (may be empty: use it inside {% if first_name %})"),
    "purchase": _l("what they bought, as it reads after a verb (“your Walnut keyboard”)"),
    "several_items": _l("true when the order has more than one item"),
    "shop_name": _l("the shop's name"),
    "owner": _l("the name of the person looking after the customer"),
    "resolution": _l("what was done to fix the problem, in the owner's words (may be empty)"),
    "link_days": _l("how many days the survey link works"),
    "first_question": _l("the survey's first question"),
}

GREETING = N_("Hi{% if first_name %} {{ first_name }}{% endif %},")
SURVEY_CLOSING = N_(
    "This link is just for you and works for {{ link_days }} days. Whatever you tell us, a "
    "person reads it, and if something is not right, one of us will get back to you personally."
)
REMINDER_CLOSING = N_("No pressure at all. This is the only reminder we will send.")
SURVEY_PLACEHOLDERS = (
    "first_name",
    "purchase",
    "several_items",
    "shop_name",
    "link_days",
    "first_question",
)
FIX_CHECK_PLACEHOLDERS = SURVEY_PLACEHOLDERS + ("owner", "resolution")
OWNER_PLACEHOLDERS = ("first_name", "purchase", "shop_name", "owner")


@dataclass(frozen=True)
class WordedEmail:
    """A customer email whose words an admin may edit: which, its placeholders, its defaults."""

    key: str
    template: str
    variant: str | None
    title: str  # a lazy translation: the editor shows it in the admin's language
    placeholders: tuple[str, ...]
    defaults: dict[str, str]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(field for field in FIELDS if field in self.defaults)


def _survey(kind: str, title: str, subject: str, paragraphs: str, placeholders=None):
    return WordedEmail(
        f"survey.{kind}",
        "survey",
        kind,
        title,
        placeholders or SURVEY_PLACEHOLDERS,
        {
            "subject": subject,
            "preheader": "{{ first_question }}",
            "greeting": GREETING,
            "paragraphs": paragraphs,
            "closing": SURVEY_CLOSING,
        },
    )


def _reminder(kind: str, title: str, subject: str, paragraphs: str, placeholders=None):
    return WordedEmail(
        f"reminder.{kind}",
        "reminder",
        kind,
        title,
        placeholders or SURVEY_PLACEHOLDERS,
        {
            "subject": subject,
            "preheader": "{{ first_question }}",
            "greeting": GREETING,
            "paragraphs": paragraphs,
            "closing": REMINDER_CLOSING,
        },
    )


WORDED_EMAILS: dict[str, WordedEmail] = {
    email.key: email
    for email in (
        _survey(
            "purchase",
            _l("Survey: after a purchase"),
            N_(
                "{% if first_name %}{{ first_name }}, how{% else %}How{% endif %} "
                "{% if several_items %}are{% else %}is{% endif %} {{ purchase }} treating you?"
            ),
            N_(
                "Thank you for choosing us for {{ purchase }}. We hope "
                "{% if several_items %}they are{% else %}it is{% endif %} already making your "
                "days a little easier. Tell us straight: did we live up to what you expected?"
            ),
        ),
        _survey(
            "fix_check",
            _l("Survey: did our fix work?"),
            N_(
                "{% if first_name %}{{ first_name }}, is{% else %}Is{% endif %} it fixed for you "
                "now?"
            ),
            N_(
                "You told us something was not right{% if owner %}, and {{ owner }} has been "
                "working on it{% endif %}. We want to be sure it is really fixed for you."
            ),
            FIX_CHECK_PLACEHOLDERS,
        ),
        _survey(
            "relationship_review",
            _l("Survey: relationship review"),
            N_(
                "{% if first_name %}{{ first_name }}, are{% else %}Are{% endif %} we still "
                "exceeding your expectations?"
            ),
            N_(
                "You have been with us for a while now, and we would rather hear the hard things "
                "than the polite ones: where we fall short of what you expected, and the one thing "
                "we could be doing better."
            ),
        ),
        _survey(
            "manual",
            _l("Survey: sent by hand"),
            N_(
                "{% if first_name %}{{ first_name }}, what{% else %}What{% endif %} is the one "
                "thing we could be doing better?"
            ),
            N_(
                "We would like to hear how things really are with us: the good, the not so good, "
                "and the one thing we could be doing better."
            ),
        ),
        _reminder(
            "purchase",
            _l("Reminder: after a purchase"),
            N_(
                "{% if first_name %}{{ first_name }}, still{% else %}Still{% endif %} a minute for "
                "{{ purchase }}?"
            ),
            N_(
                "Just a gentle nudge, in case our last note got buried: we would really like to "
                "know how {{ purchase }} is working out for you."
            ),
        ),
        _reminder(
            "fix_check",
            _l("Reminder: did our fix work?"),
            N_("{% if first_name %}{{ first_name }}, is{% else %}Is{% endif %} it really fixed?"),
            N_(
                "We only want to be sure the problem you told us about is really gone"
                "{% if owner %}, now that {{ owner }} has worked on it{% endif %}."
            ),
            FIX_CHECK_PLACEHOLDERS,
        ),
        _reminder(
            "relationship_review",
            _l("Reminder: relationship review"),
            N_(
                "{% if first_name %}{{ first_name }}, we{% else %}We{% endif %} would still love "
                "to hear from you"
            ),
            N_(
                "Just a gentle nudge, in case our last note got buried: where are we falling short "
                "of what you expected? We would really like to know."
            ),
        ),
        _reminder(
            "manual",
            _l("Reminder: sent by hand"),
            N_(
                "{% if first_name %}{{ first_name }}, we{% else %}We{% endif %} would still love "
                "to hear from you"
            ),
            N_(
                "Just a gentle nudge, in case our last note got buried: we would really like to "
                "know how things are going for you."
            ),
        ),
        WordedEmail(
            "reply",
            "reply",
            None,
            _l("The owner's personal reply (their own words come between greeting and closing)"),
            OWNER_PLACEHOLDERS,
            {
                "subject": N_(
                    "{% if purchase %}About {{ purchase }}{% else %}About what you told "
                    "us{% endif %}"
                ),
                "preheader": N_("A personal note from {{ owner }}."),
                "greeting": GREETING,
                "closing": N_("Simply reply to this email: it comes straight to me."),
            },
        ),
        WordedEmail(
            "case_reassigned_customer",
            "case_reassigned_customer",
            None,
            _l("To the customer: who looks after them now"),
            OWNER_PLACEHOLDERS,
            {
                "subject": N_("{{ owner }} is looking after you now"),
                "preheader": N_("{{ owner }} is your one point of contact from now on."),
                "greeting": GREETING,
                "paragraphs": N_(
                    "A quick note about what you told us{% if purchase %} about "
                    "{{ purchase }}{% endif %}: I am {{ owner }}, and from now on I am the one "
                    "person looking after it for you."
                ),
                "closing": N_(
                    "If there is anything you would like to add, simply reply to this "
                    "email: it comes straight to me."
                ),
            },
        ),
        WordedEmail(
            "goodbye_letter",
            "goodbye_letter",
            None,
            _l("The owner's goodbye letter (the letter itself is theirs, greeting included)"),
            OWNER_PLACEHOLDERS,
            {
                "subject": N_("A personal note from {{ owner }}"),
                "preheader": N_("A personal note from {{ owner }}."),
            },
        ),
    )
}


def worded_email_for(template: str, variant: str | None) -> WordedEmail | None:
    """The editable words of an email template (and survey kind), if it has any."""
    key = (
        f"{template}.{variant}"
        if variant and f"{template}.{variant}" in WORDED_EMAILS
        else template
    )
    return WORDED_EMAILS.get(key)
