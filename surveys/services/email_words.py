"""The words of every customer email, per language: their defaults, an admin's edits, the checks.

Each customer email (and each kind of survey) has words an admin may change: its subject,
the preheader a mail app shows beside the subject, the greeting, the paragraphs before the
links and the one after them. The words may name the email's placeholders, a fixed list per
email (`{{ first_name }}`, `{{ purchase }}`…), and choose between two wordings with
`{% if first_name %}…{% else %}…{% endif %}`; nothing else. They are checked when saved (an
unknown placeholder or broken syntax is refused with a message, and nothing is stored) and
rendered in Jinja's sandbox. Each save and each return to the default is an audit entry
holding the words before and after: the versions of those words.

Words are stored per locale string as customers carry it ("en", "es", "pt_BR"); a language
without its own words reads the defaults.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, EmailWording, User
from surveys.services.audit import record_admin_change
from surveys.services.cases.replies import opens_with_greeting
from surveys.validation.text import unstorable_text_reason

DEFAULT_LOCALE = "en"
FIELDS = ("subject", "preheader", "greeting", "paragraphs", "closing")
FIELD_LABELS = {
    "subject": "Subject",
    "preheader": "Preheader (the line a mail app shows after the subject)",
    "greeting": "Greeting",
    "paragraphs": "Paragraphs (a blank line between two)",
    "closing": "After the links",
}
# One line for the subject and preheader and greeting, a few paragraphs for the others.
ONE_LINE_FIELDS = ("subject", "preheader", "greeting")
MAX_LENGTH = {"subject": 200, "preheader": 200, "greeting": 100, "paragraphs": 3000}
AUDIT_ACTION_CHANGED = "email_words.changed"
AUDIT_ACTION_RESTORED = "email_words.restored"

PLACEHOLDERS = {
    "first_name": "the customer's first name (may be empty: use it inside {% if first_name %})",
    "purchase": "what they bought, as it reads after a verb (“your Walnut keyboard”)",
    "several_items": "true when the order has more than one item",
    "shop_name": "the shop's name",
    "owner": "the name of the person looking after the customer",
    "resolution": "what was done to fix the problem, in the owner's words (may be empty)",
    "link_days": "how many days the survey link works",
    "first_question": "the survey's first question",
}

GREETING = "Hi{% if first_name %} {{ first_name }}{% endif %},"
SURVEY_CLOSING = (
    "This link is just for you and works for {{ link_days }} days. Whatever you tell us, a "
    "person reads it, and if something is not right, one of us will get back to you personally."
)
REMINDER_CLOSING = "No pressure at all. This is the only reminder we will send."
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
    title: str
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
        f"Survey: {title}",
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
        f"Reminder: {title}",
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
            "after a purchase",
            "{% if first_name %}{{ first_name }}, how{% else %}How{% endif %} "
            "{% if several_items %}are{% else %}is{% endif %} {{ purchase }} treating you?",
            "Thank you for choosing us for {{ purchase }}. We hope "
            "{% if several_items %}they are{% else %}it is{% endif %} already making your days a "
            "little easier. Tell us straight: did we live up to what you expected?",
        ),
        _survey(
            "fix_check",
            "did our fix work?",
            "{% if first_name %}{{ first_name }}, is{% else %}Is{% endif %} it fixed for you now?",
            "You told us something was not right{% if owner %}, and {{ owner }} has been working "
            "on it{% endif %}. We want to be sure it is really fixed for you.",
            FIX_CHECK_PLACEHOLDERS,
        ),
        _survey(
            "relationship_review",
            "relationship review",
            "{% if first_name %}{{ first_name }}, are{% else %}Are{% endif %} we still "
            "exceeding your expectations?",
            "You have been with us for a while now, and we would rather hear the hard things "
            "than the polite ones: where we fall short of what you expected, and the one thing "
            "we could be doing better.",
        ),
        _survey(
            "manual",
            "sent by hand",
            "{% if first_name %}{{ first_name }}, what{% else %}What{% endif %} is the one "
            "thing we could be doing better?",
            "We would like to hear how things really are with us: the good, the not so good, "
            "and the one thing we could be doing better.",
        ),
        _reminder(
            "purchase",
            "after a purchase",
            "{% if first_name %}{{ first_name }}, still{% else %}Still{% endif %} a minute for "
            "{{ purchase }}?",
            "Just a gentle nudge, in case our last note got buried: we would really like to "
            "know how {{ purchase }} is working out for you.",
        ),
        _reminder(
            "fix_check",
            "did our fix work?",
            "{% if first_name %}{{ first_name }}, is{% else %}Is{% endif %} it really fixed?",
            "We only want to be sure the problem you told us about is really gone"
            "{% if owner %}, now that {{ owner }} has worked on it{% endif %}.",
            FIX_CHECK_PLACEHOLDERS,
        ),
        _reminder(
            "relationship_review",
            "relationship review",
            "{% if first_name %}{{ first_name }}, we{% else %}We{% endif %} would still love "
            "to hear from you",
            "Just a gentle nudge, in case our last note got buried: where are we falling short "
            "of what you expected? We would really like to know.",
        ),
        _reminder(
            "manual",
            "sent by hand",
            "{% if first_name %}{{ first_name }}, we{% else %}We{% endif %} would still love "
            "to hear from you",
            "Just a gentle nudge, in case our last note got buried: we would really like to "
            "know how things are going for you.",
        ),
        WordedEmail(
            "reply",
            "reply",
            None,
            "The owner's personal reply (their own words come between greeting and closing)",
            OWNER_PLACEHOLDERS,
            {
                "subject": "{% if purchase %}About {{ purchase }}{% else %}About what you told "
                "us{% endif %}",
                "preheader": "A personal note from {{ owner }}.",
                "greeting": GREETING,
                "closing": "Simply reply to this email: it comes straight to me.",
            },
        ),
        WordedEmail(
            "case_reassigned_customer",
            "case_reassigned_customer",
            None,
            "To the customer: who looks after them now",
            OWNER_PLACEHOLDERS,
            {
                "subject": "{{ owner }} is looking after you now",
                "preheader": "{{ owner }} is your one point of contact from now on.",
                "greeting": GREETING,
                "paragraphs": "A quick note about what you told us{% if purchase %} about "
                "{{ purchase }}{% endif %}: I am {{ owner }}, and from now on I am the one "
                "person looking after it for you.",
                "closing": "If there is anything you would like to add, simply reply to this "
                "email: it comes straight to me.",
            },
        ),
        WordedEmail(
            "goodbye_letter",
            "goodbye_letter",
            None,
            "The owner's goodbye letter (the letter itself is theirs, greeting included)",
            OWNER_PLACEHOLDERS,
            {
                "subject": "A personal note from {{ owner }}",
                "preheader": "A personal note from {{ owner }}.",
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


def reader_locale(customer) -> str:
    """The language a customer reads: theirs when known, else the default."""
    return normalize_locale(getattr(customer, "locale", None)) or DEFAULT_LOCALE


def normalize_locale(locale: str | None) -> str | None:
    """ "pt-BR" and "pt_br" as Babel spells them ("pt_BR"); None for nothing."""
    if not locale or not str(locale).strip():
        return None
    parts = str(locale).strip().replace("-", "_").split("_")
    return "_".join([parts[0].lower(), *(part.upper() for part in parts[1:])])


# --- checking --------------------------------------------------------------------------


class WordsInvalid(ValueError):
    """Some words cannot be saved; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(m)}" for field, m in errors.items()))
        self.errors = errors


_ENVIRONMENTS: dict[bool, SandboxedEnvironment] = {}


def sandbox(*, html: bool) -> SandboxedEnvironment:
    """Jinja's sandbox, an unknown name an error rather than a blank."""
    if html not in _ENVIRONMENTS:
        _ENVIRONMENTS[html] = SandboxedEnvironment(
            undefined=StrictUndefined, autoescape=html, keep_trailing_newline=False
        )
    return _ENVIRONMENTS[html]


# The only parts of Jinja's syntax words may use: text, a placeholder, and if/else with
# `not`, `and`, `or`. No filters, calls or attributes: a placeholder may stand for a value
# each recipient fills in later (surveys.mail.personal), which only prints and tests.
_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
)


def check_words(email: WordedEmail, words: dict[str, str]) -> dict[str, str]:
    """The words as they are stored (every field, trimmed), or WordsInvalid saying what is wrong."""
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for field in email.fields:
        text = str(words.get(field) or "").replace("\r\n", "\n").strip()
        problem = _field_problem(email, field, text)
        if problem:
            errors[field] = [problem]
        cleaned[field] = text
    if (
        "greeting" not in errors
        and "paragraphs" not in errors
        and cleaned.get("greeting")
        and opens_with_greeting(cleaned.get("paragraphs", ""))
    ):
        errors["paragraphs"] = [
            "The greeting has its own field above: start the paragraphs with what you want "
            "to say, or nobody would be greeted twice."
        ]
    if errors:
        raise WordsInvalid(errors)
    return cleaned


def _field_problem(email: WordedEmail, field: str, text: str) -> str | None:
    if not text and field in ("subject", "paragraphs"):
        return "This cannot be empty."
    if len(text) > MAX_LENGTH.get(field, 1000):
        return f"Keep it to {MAX_LENGTH.get(field, 1000)} characters or fewer."
    reason = unstorable_text_reason(text, multiline=field not in ONE_LINE_FIELDS)
    if reason:
        return f"This {reason}."
    try:
        tree = sandbox(html=False).parse(text)
    except TemplateSyntaxError as exc:
        return f"The placeholders do not read right (line {exc.lineno}): {exc.message}."
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            return (
                "Only placeholders like {{ first_name }} and {% if first_name %}…{% else %}…"
                "{% endif %} may be used here."
            )
    unknown = sorted({node.name for node in tree.find_all(nodes.Name)} - set(email.placeholders))
    if unknown:
        allowed = ", ".join("{{ " + name + " }}" for name in email.placeholders)
        named = ", ".join("{{ " + name + " }}" for name in unknown)
        return f"This email has no placeholder {named}. It knows: {allowed}."
    return None


# --- rendering -------------------------------------------------------------------------


def render_words(
    words: dict[str, str], values: dict[str, object], *, html: bool
) -> dict[str, object]:
    """The words filled in: one line each, and `paragraphs`/`closing` as lists of paragraphs.

    With `html`, every piece is Markup, each value escaped by the sandbox.
    """
    rendered: dict[str, object] = {}
    for field, text in words.items():
        out = _compiled(text, html).render(values) if text else ""
        if field in ONE_LINE_FIELDS:
            line = " ".join(out.split())
            rendered[field] = Markup(line) if html else line
        else:
            pieces = [" ".join(p.split()) for p in out.replace("\r\n", "\n").split("\n\n")]
            rendered[field] = [Markup(p) if html else p for p in pieces if p]
    return rendered


@functools.lru_cache(maxsize=512)
def _compiled(text: str, html: bool):
    """Words compiled once: a batch of a thousand emails renders the same few."""
    return sandbox(html=html).from_string(text)


def sample_values(email: WordedEmail) -> dict[str, object]:
    """Values to try the words with before they are saved."""
    sample = {
        "first_name": "Ana",
        "purchase": "your Walnut keyboard",
        "several_items": False,
        "shop_name": "the shop",
        "owner": "Olivia",
        "resolution": "We sent a new keyboard.",
        "link_days": 30,
        "first_question": "Are we exceeding your expectations?",
    }
    return {name: sample[name] for name in email.placeholders}


# --- stored words ----------------------------------------------------------------------


def default_words(email: WordedEmail, locale: str) -> dict[str, str]:
    """The words an email has until an admin changes them (English until translated)."""
    return dict(email.defaults)


def stored_words(session: Session, email: WordedEmail, locale: str) -> dict[str, str] | None:
    """An admin's words for this email and language, or None."""
    row = _row(session, email, locale)
    return dict(row.words) if row is not None else None


def words_for(session: Session, email: WordedEmail, locale: str) -> dict[str, str]:
    """The words an email goes out with in a language: an admin's, else the defaults."""
    words = stored_words(session, email, locale)
    if words is None:
        return default_words(email, locale)
    # A field added after the words were saved takes its default.
    return {field: words.get(field, email.defaults[field]) for field in email.fields}


def _row(session: Session, email: WordedEmail, locale: str) -> EmailWording | None:
    return session.scalar(
        select(EmailWording).where(
            EmailWording.email_key == email.key, EmailWording.locale == locale
        )
    )


def select_all_wordings():
    """Every stored wording: which emails have an admin's words, in which languages."""
    return select(EmailWording).order_by(EmailWording.email_key, EmailWording.locale)


def _target(email: WordedEmail, locale: str) -> str:
    return f"email words {email.key} ({locale})"


def save_words(
    session: Session,
    email: WordedEmail,
    locale: str,
    words: dict[str, str],
    *,
    actor: User,
    now: datetime,
) -> bool:
    """Check and store the words (WordsInvalid, nothing stored, when they cannot be used).

    Returns whether anything changed; each change is one audit entry, a version of the words.
    """
    cleaned = check_words(email, words)
    for field in cleaned:
        try:
            render_words({field: cleaned[field]}, sample_values(email), html=True)
        except TemplateError as exc:  # the sandbox's refusal, or a value it cannot use
            raise WordsInvalid({field: [f"These words cannot be filled in: {exc}."]}) from None
    before = words_for(session, email, locale)
    if cleaned == before:
        return False
    row = _row(session, email, locale)
    if row is None:
        session.add(EmailWording(email_key=email.key, locale=locale, words=cleaned, updated_at=now))
    else:
        row.words, row.updated_at = cleaned, now
    record_admin_change(
        session,
        actor_user=actor,
        action=AUDIT_ACTION_CHANGED,
        target=_target(email, locale),
        before=before,
        after=cleaned,
        now=now,
    )
    return True


def restore_default(
    session: Session, email: WordedEmail, locale: str, *, actor: User, now: datetime
) -> bool:
    """Go back to the default words; False when they were the defaults already."""
    row = _row(session, email, locale)
    if row is None:
        return False
    before = dict(row.words)
    session.delete(row)
    record_admin_change(
        session,
        actor_user=actor,
        action=AUDIT_ACTION_RESTORED,
        target=_target(email, locale),
        before=before,
        after=default_words(email, locale),
        now=now,
    )
    session.flush()
    return True


def versions(session: Session, email: WordedEmail, locale: str) -> list[AuditEntry]:
    """Every change of these words, newest first: who, when, before and after."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action.in_((AUDIT_ACTION_CHANGED, AUDIT_ACTION_RESTORED)),
                AuditEntry.target == _target(email, locale),
            )
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        )
    )
