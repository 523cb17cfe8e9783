"""Checking words before they are saved, and filling them in, in Jinja's sandbox."""

from __future__ import annotations

import functools

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from surveys.services.cases.replies import opens_with_greeting
from surveys.services.email_words.catalogue import (
    MAX_LENGTH,
    ONE_LINE_FIELDS,
    WordedEmail,
)
from surveys.validation.text import unstorable_text_reason


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
# Why text cannot be stored (surveys.validation.text), as whole sentences in the admin's language.
_UNSTORABLE = {
    "must be a single line": _l("This must be a single line."),
    "must not contain control characters": _l("This must not contain control characters."),
    "must not contain NUL characters": _l("This must not contain NUL characters."),
    "must be valid Unicode text (it contains a lone surrogate)": _l(
        "This must be valid Unicode text (it contains a lone surrogate)."
    ),
}

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
            _(
                "The greeting has its own field above: start the paragraphs with what you want "
                "to say, or nobody would be greeted twice."
            )
        ]
    if errors:
        raise WordsInvalid(errors)
    return cleaned


def _field_problem(email: WordedEmail, field: str, text: str) -> str | None:
    if not text and field in ("subject", "paragraphs"):
        return _("This cannot be empty.")
    if len(text) > MAX_LENGTH.get(field, 1000):
        return _("Keep it to %(count)s characters or fewer.", count=MAX_LENGTH.get(field, 1000))
    reason = unstorable_text_reason(text, multiline=field not in ONE_LINE_FIELDS)
    if reason:
        return str(_UNSTORABLE.get(reason, f"This {reason}."))
    try:
        tree = sandbox(html=False).parse(text)
    except TemplateSyntaxError as exc:
        # Jinja's own description of the mistake is English: it follows the translated words.
        return _(
            "The placeholders do not read right (line %(line)s): %(problem)s.",
            line=exc.lineno,
            problem=exc.message,
        )
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            return _(
                "Only placeholders like {{ first_name }} and {% if first_name %}…{% else %}…"
                "{% endif %} may be used here."
            )
    unknown = sorted({node.name for node in tree.find_all(nodes.Name)} - set(email.placeholders))
    if unknown:
        allowed = ", ".join("{{ " + name + " }}" for name in email.placeholders)
        named = ", ".join("{{ " + name + " }}" for name in unknown)
        return _(
            "This email has no placeholder %(unknown)s. It knows: %(known)s.",
            unknown=named,
            known=allowed,
        )
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
