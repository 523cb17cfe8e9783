"""A written answer's negative rule as a document states it: a tone threshold, words (one list,
or a list per language), any real answer.

Split from `fields` (the rest of a question's parts), whose limits and refusals it shares.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BeforeValidator, WithJsonSchema, model_serializer
from pydantic_core import PydanticCustomError

from surveys.services.question_sets.fields import (
    MAX_LANGUAGES,
    MAX_RULE_WORD,
    MAX_RULE_WORDS,
    DocumentModel,
    empty_rule,
    refusal,
)
from surveys.validation.languages import TAG_PATTERN, UnknownLanguage, language_tag
from surveys.validation.text import text_pattern, unstorable_text_reason

TEXT_RULE_PARTS = ("sentiment_below", "words", "not_empty")
TEXT_RULE_SHAPE = _l(
    'For a text, the rule is {"sentiment_below": -0.4, "words": ["refund", …], '
    '"not_empty": true}, any of them, or null for never.'
)


def read_text_rule(value: Any) -> Any:
    value = empty_rule(value)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise refusal(TEXT_RULE_SHAPE)
    unknown = [str(part) for part in value if part not in TEXT_RULE_PARTS]
    if unknown:
        raise refusal(
            _("Unknown part “%(part)s”. %(shape)s", part=unknown[0], shape=str(TEXT_RULE_SHAPE))
        )
    # A part left null (or "not_empty": false) asks nothing; a rule asking nothing is "never".
    given = {part: v for part, v in value.items() if v is not None and v is not False}
    return given or None


def _sentiment_threshold(value: Any) -> float:
    # The range test also refuses NaN and infinity (no comparison with NaN is true), and
    # unlike float() it does not overflow on an integer too large for a float.
    if isinstance(value, bool) or not isinstance(value, int | float) or not -1 <= value <= 1:
        raise refusal(
            _(
                "The sentiment threshold is a number from -1 (very unhappy) to 1 (very happy), "
                "like -0.4."
            )
        )
    return float(value)


def _rule_words(value: Any) -> list[str] | dict[str, list[str]]:
    """One list for every answer (the default language's), or a list per language."""
    if isinstance(value, dict):
        return _words_by_language(value)
    return _word_list(value)


def _words_by_language(value: dict) -> dict[str, list[str]]:
    if not value:
        raise refusal(
            _('List the words per language, like {"en": ["refund"], "es": ["reembolso"]}.')
        )
    if len(value) > MAX_LANGUAGES:
        raise refusal(_("Keep it to %(num)s languages.", num=MAX_LANGUAGES))
    lists: dict[str, list[str]] = {}
    for raw_tag, words in value.items():
        try:
            tag = language_tag(raw_tag)
        except UnknownLanguage as exc:
            raise refusal(str(exc)) from None
        if tag in lists:
            raise refusal(_("%(language)s is given twice; keep one list.", language=tag))
        try:
            lists[tag] = _word_list(words)
        except PydanticCustomError as exc:
            raise refusal(
                _("%(language)s: %(message)s", language=tag, message=exc.message())
            ) from None
    return lists


def _word_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise refusal(_('List the words or phrases that make an answer negative, like ["refund"].'))
    if len(value) > MAX_RULE_WORDS:
        raise refusal(_("Keep the list to %(num)s words or phrases.", num=MAX_RULE_WORDS))
    words: list[str] = []
    seen: set[str] = set()
    for number, word in enumerate(value, start=1):
        if not isinstance(word, str) or not word.strip():
            raise refusal(
                _(
                    "Word %(number)s is empty; write the word or phrase, or remove it.",
                    number=number,
                )
            )
        reason = unstorable_text_reason(word, multiline=False)
        if reason:
            raise refusal(f"Word {number} {reason}.")
        word = word.strip()
        if len(word) > MAX_RULE_WORD:
            raise refusal(
                _(
                    "Keep each word or phrase to %(num)s characters; word %(number)s is longer.",
                    num=MAX_RULE_WORD,
                    number=number,
                )
            )
        # The same word twice matches no more than once; keep the first.
        if word.casefold() not in seen:
            seen.add(word.casefold())
            words.append(word)
    return words


def _not_empty(value: Any) -> bool:
    if not isinstance(value, bool):
        raise refusal(_("“not_empty” is true or false."))
    return value


_WORD_LIST_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_RULE_WORDS,
    "items": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_RULE_WORD,
        "pattern": text_pattern(multiline=False, required=True),
    },
}


class TextRule(DocumentModel):
    """When a written answer is negative: any part that matches is enough."""

    sentiment_below: Annotated[
        float | None,
        BeforeValidator(_sentiment_threshold),
        WithJsonSchema(
            {
                "type": ["number", "null"],
                "minimum": -1,
                "maximum": 1,
                "description": "Negative when the answer's sentiment (from -1, very unhappy, "
                "to 1, very happy) is below this.",
            }
        ),
    ] = None
    words: Annotated[
        list[str] | dict[str, list[str]] | None,
        BeforeValidator(_rule_words),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "null"},
                    _WORD_LIST_SCHEMA,
                    {
                        "type": "object",
                        "minProperties": 1,
                        "maxProperties": MAX_LANGUAGES,
                        "propertyNames": {"pattern": TAG_PATTERN},
                        "additionalProperties": _WORD_LIST_SCHEMA,
                    },
                ],
                "description": "Negative when the answer has any of these words or phrases "
                "(whole words, without regard to case or accents): one list for every answer, "
                'or a list per language (`{"en": [...], "es": [...]}`, each a BCP 47 code '
                "Babel knows, given once), read by the customer's language, else the shop's "
                "default language.",
            }
        ),
    ] = None
    not_empty: Annotated[
        bool | None,
        BeforeValidator(_not_empty),
        WithJsonSchema(
            {
                "type": ["boolean", "null"],
                "description": "Negative for any real answer (“no”, “none”, “n/a” do not count).",
            }
        ),
    ] = None

    @model_serializer(mode="wrap")
    def _given_parts_only(self, handler) -> dict:
        # Stored and compared with only the parts that ask something.
        # (`is`, not `in`: a threshold of 0.0 equals False.)
        return {part: v for part, v in handler(self).items() if v is not None and v is not False}
