"""Question sets in the customer's language: each question's text and option labels per language.

A question's `text` (and an option's `label`) is written in the shop's default language;
`translations` holds it in others, by BCP 47 tag. A reader gets their language's text, else
their language's other variant (`pt-BR` for `pt`), else the default text: a version published
with gaps still sends, in the default language where a text is missing. The survey page, the
survey and reminder emails (the first question and its one-tap answers), the admin's preview
and the API all read texts through `question_text` and `option_label`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from surveys.languages import FALLBACK, SHIPPED, html_lang, is_right_to_left
from surveys.services.settings import get_setting
from surveys.text_reading import sentiment_reads
from surveys.validation.languages import (
    language_name,
    language_or_none,
    pick,
)

# The languages the product's own sentences ship in (surveys.languages), as BCP 47 tags.
SHIPPED_LANGUAGES = tuple(html_lang(name) for name in SHIPPED)
FALLBACK_LANGUAGE = html_lang(FALLBACK)


def shop_default_language(session: Session) -> str:
    """The language default texts are written in: the shop's setting, else English."""
    return language_or_none(get_setting(session, "default_language")) or FALLBACK_LANGUAGE


def reader_language(customer, *, default: str) -> str:
    """The language a customer reads questions in: their locale, else `default` (the shop's)."""
    return language_or_none(customer.locale) or default


def customer_language(session: Session, customer) -> str:
    """The language a customer reads questions in: their locale, else the shop's default."""
    return reader_language(customer, default=shop_default_language(session))


def _field(item, name: str):
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def question_text(question, language: str | None) -> str:
    """A question's text (a Question row or a document's dict) as a reader of `language` reads
    it; None or a missing translation gives the default text."""
    return pick(_field(question, "translations"), language) or _field(question, "text") or ""


def option_label(option: dict, language: str | None) -> str:
    """An option's label as a reader of `language` reads it (the default label when missing)."""
    return pick(option.get("translations"), language) or option.get("label") or ""


class LocalizedQuestion:
    """A question as one reader sees it: its text and option labels in their language, every
    other attribute the question's own. For the page, the form and the email; answers and
    rules keep working on the question itself."""

    def __init__(self, question, language: str | None) -> None:
        self.question = question
        self.language = language
        self.text = question_text(question, language)
        self.options = (
            [{**option, "label": option_label(option, language)} for option in question.options]
            if question.options
            else question.options
        )

    def __getattr__(self, name: str):
        return getattr(self.question, name)

    def label_for(self, value: str | None) -> str | None:
        for option in self.options or ():
            if option["value"] == value:
                return option["label"]
        return value


def localized_question(question, language: str | None) -> LocalizedQuestion:
    """The question in `language` (see LocalizedQuestion)."""
    return LocalizedQuestion(question, language)


def localized_questions(questions: Iterable, language: str | None) -> list[LocalizedQuestion]:
    return [LocalizedQuestion(question, language) for question in questions]


# --- what the editor shows -------------------------------------------------------------------


@dataclass(frozen=True)
class EditorLanguage:
    """A language the editor offers beside the default text."""

    tag: str
    name: str
    right_to_left: bool
    # The name as a sentence writes it in the admin's language ("en espagnol", "in Spanish").
    in_sentence: str
    # False where the sentiment library cannot read answers: its tone rule does nothing there.
    tone_is_read: bool


def editor_languages(
    default_language: str, document: list[dict], *, in_language: str = "en"
) -> list[EditorLanguage]:
    """The shipped languages other than the default, then any other the document has, named
    in `in_language` (the admin's)."""
    tags = [tag for tag in SHIPPED_LANGUAGES if tag != default_language]
    tags += sorted(tag for tag in languages_in(document) if tag not in tags)
    tags = [tag for tag in tags if tag != default_language]
    return [describe_language(tag, in_language) for tag in tags]


def name_in_sentence(tag: str, in_language: str) -> str:
    """A tag's name as a sentence writes it (`espagnol` in French, `Spanish` in English)."""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(in_language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return tag
    return name or tag


def describe_language(tag: str, in_language: str = "en") -> EditorLanguage:
    return EditorLanguage(
        tag=tag,
        name=language_name(tag, in_language),
        in_sentence=name_in_sentence(tag, in_language),
        right_to_left=is_right_to_left(tag),
        tone_is_read=sentiment_reads(tag),
    )


def languages_in(document: list[dict]) -> set[str]:
    """Every language some text of the document is translated into."""
    found: set[str] = set()
    for question in document if isinstance(document, list) else ():
        if not isinstance(question, dict):
            continue
        found.update(_tags(question.get("translations")))
        for option in question.get("options") or ():
            if isinstance(option, dict):
                found.update(_tags(option.get("translations")))
        words = (question.get("negative") or {}).get("words") if question.get("negative") else None
        if isinstance(words, dict):
            found.update(_tags(words))
    return found


def _tags(texts) -> list[str]:
    return [tag for tag in (texts or {}) if isinstance(tag, str)] if isinstance(texts, dict) else []


def missing_texts(document: list[dict], languages: Iterable[str]) -> dict[str, list[str]]:
    """For each language, the texts the document lacks in it ("question 2", "question 1,
    option “short”"); languages missing nothing are left out."""
    missing: dict[str, list[str]] = {}
    for tag in languages:
        gaps = []
        for number, question in enumerate(document, start=1):
            if not (question.get("translations") or {}).get(tag):
                gaps.append(_("question %(number)s", number=number))
            for option in question.get("options") or ():
                if not (option.get("translations") or {}).get(tag):
                    gaps.append(
                        _(
                            "question %(number)s, option “%(value)s”",
                            number=number,
                            value=option.get("value"),
                        )
                    )
        if gaps:
            missing[tag] = gaps
    return missing


def translated_languages(document: list[dict]) -> list[str]:
    """The languages a publish is checked for: every language any text is written in."""
    return sorted(languages_in_texts(document))


def languages_in_texts(document: list[dict]) -> set[str]:
    """Languages of question texts and option labels (word lists aside)."""
    found: set[str] = set()
    for question in document:
        found.update(_tags(question.get("translations")))
        for option in question.get("options") or ():
            found.update(_tags(option.get("translations")))
    return found
