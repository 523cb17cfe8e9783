"""The owner's reply in two parts: what they understood (their paraphrase of the customer's
words, refused when it is essentially a copy of them) and what they will do, and the one
letter built from both."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq
from sqlalchemy.orm import object_session

from surveys.languages import shipped_or_default
from surveys.models import Case
from surveys.services.cases.errors import CaseInputError
from surveys.services.settings import get_setting

# Each part fits twice in the letter's limit (MAX_REPLY_LENGTH), with its lead-in words.
MAX_UNDERSTOOD_LENGTH = 2400
MAX_WILL_DO_LENGTH = 2400
# The customer's later emails on the case (kind written by the inbound mail) count as their words.
CUSTOMER_REPLIED = "customer_replied"
RECENT_CUSTOMER_REPLIES = 5

# When the owner's paraphrase counts as a copy of the customer's words. Chosen with the
# table in tests/test_reply_paraphrase.py (verbatim, pronoun-swapped, quoted, reordered,
# misspelt and partial copies against real paraphrases of the same complaints):
# - most of the owner's words are the customer's, in the customer's order (a pasted
#   passage, with "you told us" around it or a pronoun changed): copies score 0.77 and
#   more, paraphrases at most 0.6. Only from 3 words on: two shared words are a phrase
#   anyone would use ("broken key"), not a copy.
COPIED_SHARE = 0.7
MIN_COPIED_WORDS = 3
# - the whole text is nearly theirs (typos, punctuation, a word changed): copies 85+,
#   paraphrases at most 70;
SAME_TEXT_RATIO = 85
# - the same words reshuffled: copies 100, paraphrases at most 81.
# (token_set_ratio and partial_ratio alone do not do: both give 100 to a paraphrase that
# merely contains a short answer, "It was too slow for you: you needed it sooner".)
REORDERED_RATIO = 90

COPY_MESSAGE = _l(
    "That is almost word for word what they wrote. Say it back in your own words, "
    "the way you understood it, so they know a person really listened."
)
# A greeting the owner typed although the letter has its own: "Hi Ana,", "Dear Ana!" on a
# line of its own, or before the first sentence ("Hi Ana, your keyboard…").
_GREETING_WORD = r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))(?=[\s,!.]|$)"
_GREETING_LINE = re.compile(_GREETING_WORD + r"[^,!.\n]{0,40}[,!.]?[ \t]*(?:\n|$)", re.IGNORECASE)
_GREETING_LEAD = re.compile(_GREETING_WORD + r"[^,!.\n]{0,40}[,!][ \t]*", re.IGNORECASE)


@dataclass(frozen=True)
class TwoPartReply:
    """The two parts as the owner wrote them (trimmed) and the letter the customer receives."""

    understood: str
    will_do: str
    letter: str


def customer_words(case: Case) -> list[str]:
    """Everything the customer wrote about this case: their written answers and their
    latest emails on it."""
    written = [
        answer.value.strip()
        for answer in case.response.answers
        if answer.question.type == "text" and (answer.value or "").strip()
    ]
    replies = [event.body for event in case.events if event.kind == CUSTOMER_REPLIED and event.body]
    return written + replies[-RECENT_CUSTOMER_REPLIES:]


def _words(text: str) -> list[str]:
    """Lower-case words without accents or punctuation: how two texts are compared."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return re.findall(r"\w+", folded)


def is_copy(paraphrase: str, original: str) -> bool:
    """Whether `paraphrase` is essentially `original` again rather than the writer's own words."""
    mine, theirs = _words(paraphrase), _words(original)
    if not mine or not theirs:
        return False
    shared = LCSseq.similarity(mine, theirs)
    if len(mine) >= MIN_COPIED_WORDS and shared / len(mine) >= COPIED_SHARE:
        return True
    mine_text, theirs_text = " ".join(mine), " ".join(theirs)
    return (
        fuzz.ratio(mine_text, theirs_text) >= SAME_TEXT_RATIO
        or fuzz.token_sort_ratio(mine_text, theirs_text) >= REORDERED_RATIO
    )


def copied_words(paraphrase: str, originals: list[str]) -> str | None:
    """The customer's text the paraphrase copies (any one of them, or all of them together)."""
    candidates = list(originals)
    if len(originals) > 1:
        candidates.append(" ".join(originals))
    return next((text for text in candidates if is_copy(paraphrase, text)), None)


def opens_with_greeting(text: str) -> bool:
    """Whether the text begins by greeting someone ("Hi Ana,", "Dear Ana!"): the letter then
    leaves out its own greeting, so nobody is greeted twice."""
    return bool(_GREETING_LINE.match(text) or _GREETING_LEAD.match(text))


def without_greeting(text: str) -> str:
    """The text without a greeting the owner typed: the letter opens with its own."""
    stripped = _GREETING_LINE.sub("", text, count=1).strip()
    if stripped == text:
        stripped = _GREETING_LEAD.sub("", text, count=1).strip()
        if stripped != text:
            stripped = stripped[:1].upper() + stripped[1:]
    # A greeting and nothing else is not a part of the letter: the caller says it is missing.
    return stripped


def compose_letter(understood: str, will_do: str) -> str:
    """The letter's text between the greeting and the signature (templates/emails/reply.*), in
    the language being spoken (`two_part_reply` speaks the customer's)."""
    return "\n\n".join(
        [
            _(
                "Thank you for telling us how things went. I read what you wrote, and I want "
                "to be sure I have understood you:"
            ),
            understood,
            _("Here is what I will do:"),
            will_do,
            _("If I have misunderstood anything, please tell me."),
        ]
    )


def _part(field: str, value: str | None, *, missing: str, max_length: int) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if not text:
        raise CaseInputError(field, missing)
    if len(text) > max_length:
        raise CaseInputError(field, _("Keep it under %(max)d characters.", max=max_length))
    text = without_greeting(text)
    if not text:
        raise CaseInputError(field, missing)
    return text


def two_part_reply(case: Case, *, understood: str | None, will_do: str | None) -> TwoPartReply:
    """Check both parts (CaseInputError naming the part) and build the letter from them."""
    understood = _part(
        "understood",
        understood,
        missing=_("Say in your own words what you understood from what they wrote."),
        max_length=MAX_UNDERSTOOD_LENGTH,
    )
    if copied_words(understood, customer_words(case)) is not None:
        raise CaseInputError("understood", str(COPY_MESSAGE))
    will_do = _part(
        "will_do",
        will_do,
        missing=_("Say what you will do about it, and by when."),
        max_length=MAX_WILL_DO_LENGTH,
    )
    # The letter goes to the customer: its frame is in their language, whoever writes it.
    shop_language = get_setting(object_session(case), "default_language")
    with force_locale(shipped_or_default(case.customer.locale, shop_language)):
        letter = compose_letter(understood, will_do)
    return TwoPartReply(understood, will_do, letter)
