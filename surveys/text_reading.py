"""Reading a customer's written answer: is it real, how does it feel, which words stand out.

Sentiment comes from VADER (`vaderSentiment`), which ships its word list inside the package, so
nothing is downloaded at run time. VADER was built for short social-media text, which is close to
what customers type into a survey box, but it reads "Nothing, loved it!" as negative (it takes
"nothing" as a negation of "loved"). Our answers are replies to "what could we do better?", where
a leading "nothing" or "no" *is* the answer, so that opening is set aside before scoring.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from rapidfuzz.distance import OSA
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from surveys.validation.languages import pick

# Whole answers that say "nothing to report". Compared after folding case, accents and punctuation.
NON_ANSWERS = frozenset(
    {
        "",
        "no",
        "nope",
        "nah",
        "none",
        "nothing",
        "nothing really",
        "nothing at all",
        "nothing to improve",
        "nothing to add",
        "not really",
        "not much",
        "no comment",
        "no comments",
        "n a",
        "na",
        "nil",
        "all good",
        "all fine",
        "everything ok",
        "everything okay",
        "everything fine",
        "can t think of anything",
        "cannot think of anything",
        "no thanks",
        "no thank you",
        "too early to tell",
        "not sure",
        "idk",
        "dunno",
        # The same, in the other languages we ship (folded: no accents).
        "nada",
        "nada mas",
        "ninguno",
        "ninguna",
        "todo bien",
        "rien",
        "rien du tout",
        "non",
        "tout va bien",
        "nichts",
        "nein",
        "alles gut",
        "nao",
        "nenhum",
        "nenhuma",
        "tudo bem",
        "niente",
        "nulla",
        "tutto bene",
        "niets",
        "nee",
        "geen",
        "alles goed",
        "لا",
        "لا شيء",
        "لا يوجد",
    }
)

# A non-answer opening followed by more words: "Nothing, loved it", "N/A - all great".
_OPENING = re.compile(
    r"^\s*(nothing(?: really| at all)?|no(?:pe)?|none|n/?a|not much|not really|all good)"
    r"\s*[,.;:!\-–—]+\s*",
    re.IGNORECASE,
)

# Reassuring idioms: VADER scores them as negative because they contain "no" or "not", and they
# hold words a complaint list may name.
_REASSURING_IDIOMS = re.compile(
    r"\b(no big deal|no problem|no problems|no worries|no complaints|not bad|not a problem)\b",
    re.IGNORECASE,
)

# Complaint words and phrases every business hears; the seeded "one thing" question starts with
# these and admins edit them. Whole words, compared without case or accents.
DEFAULT_COMPLAINT_WORDS = (
    "refund",
    "money back",
    "broken",
    "damaged",
    "crushed",
    "cracked",
    "ruined",
    "faulty",
    "defective",
    "missing",
    "never arrived",
    "never received",
    "never got",
    "never again",
    "late",
    "delay",
    "delayed",
    "rude",
    "ignored",
    "cancel",
    "cancelled",
    "cancelling",
    "worst",
    "terrible",
    "awful",
    "horrible",
    "rubbish",
    "useless",
    "scam",
    "charged twice",
    "billed",
    "overcharged",
    "still waiting",
    "no reply",
    "no answer",
    "nobody",
    "wrong",
    "disappointed",
    "disappointing",
    "stop",
    "stopped working",
    "not working",
    "doesn't work",
    "doesn't fit",
    "without warning",
    "complaint",
    "return policy",
    "out of date",
    "crashes",
    "refused",
    "chase",
    "not impressed",
    "expected better",
    "slow",
    "cold",
    "confusing",
    "annoying",
    "poor",
    "worse",
    "gone down",
    "get hold",
    "threw",
)

# The languages VADER's word list is written in. An answer in another language is still
# scored (the score says little), but a rule's tone threshold is not applied to it: only its
# words and "not empty" are. The editor says so beside each such language.
SENTIMENT_LANGUAGES = ("en",)


def sentiment_reads(language: str | None) -> bool:
    """Whether the sentiment library can read answers written in `language` (a BCP 47 tag)."""
    return language is None or language.replace("_", "-").split("-")[0].lower() in (
        SENTIMENT_LANGUAGES
    )


def words_for(
    words: list | dict | None, language: str | None, default_language: str = "en"
) -> list[str]:
    """The words a rule looks for in an answer written in `language`.

    A plain list is for every answer (rules written before lists per language). A list per
    language (`{"en": [...], "es": [...]}`) gives the customer's language's list, else the
    shop's default language's, else none.
    """
    if not words:
        return []
    if isinstance(words, list):
        return words
    return pick(words, language) or pick(words, default_language) or []


# Answers scoring below this are complaints. Chosen from tests/data/comments.csv; the confusion
# table for each candidate is in bench/README.md ("Reading written answers").
DEFAULT_SENTIMENT_THRESHOLD = -0.4


def fold(text: str) -> str:
    """Lower case without accents, so "Remboursé" matches "rembourse"."""
    folded = text.casefold()
    if folded.isascii():
        return folded  # nothing to decompose; the common case, and themes fold every answer
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _bare(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


def is_real_answer(text: str | None) -> bool:
    """True unless the answer only says there is nothing to say ("n/a", "Nothing, all good")."""
    if text is None or _bare(text) in NON_ANSWERS:
        return False
    opening = _OPENING.match(text)
    if opening is None:
        return True
    rest = text[opening.end() :]
    return _bare(rest) not in NON_ANSWERS and sentiment_score(rest) < 0.05


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment_score(text: str) -> float:
    """From -1 (very negative) to 1 (very positive); 0 for nothing to read."""
    opening = _OPENING.match(text)
    if opening is not None:
        text = text[opening.end() :]
    text = _REASSURING_IDIOMS.sub("fine", text)
    if not text.strip():
        return 0.0
    return round(float(_analyzer().polarity_scores(text)["compound"]), 4)


# Long words are matched with one slip of the keyboard ("disapointed"); short ones exactly, since
# one letter turns "billed" into "filled".
_TYPO_TOLERANT_LENGTH = 8


def matching_words(text: str, words: tuple[str, ...] | list[str]) -> list[str]:
    """The listed words or phrases found in the text as whole words, in the list's order."""
    # "No complaints" and "no problem" reassure; they must not match "complaint" or "problem".
    folded = _bare(_REASSURING_IDIOMS.sub(" ", text))
    tokens = folded.split()
    found = []
    for word in words:
        needle = _bare(word)
        if not needle:
            continue
        if re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded) or (
            " " not in needle
            and len(needle) >= _TYPO_TOLERANT_LENGTH
            and any(OSA.distance(needle, token, score_cutoff=1) <= 1 for token in tokens)
        ):
            found.append(word)
    return found


@dataclass(frozen=True)
class TextRule:
    """When a written answer counts as negative; any one part that matches is enough."""

    sentiment_below: float | None = None
    words: tuple[str, ...] = ()
    not_empty: bool = False


@dataclass(frozen=True)
class TextReading:
    """What a written answer said, for the response and the case page."""

    score: float
    negative: bool
    words: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def read_answer(text: str, rule: TextRule | None, language: str | None = None) -> TextReading:
    """Score the answer and say which parts of the rule, if any, make it negative.

    `language` is the answer's (the customer's); the tone threshold applies only where the
    sentiment library reads that language."""
    score = sentiment_score(text)
    if rule is None or not is_real_answer(text):
        return TextReading(score=score, negative=False)
    reasons = []
    words = matching_words(text, rule.words) if rule.words else []
    if words:
        reasons.append("words")
    if (
        rule.sentiment_below is not None
        and score < rule.sentiment_below
        and sentiment_reads(language)
    ):
        reasons.append("sentiment")
    if rule.not_empty:
        reasons.append("not_empty")
    return TextReading(score=score, negative=bool(reasons), words=words, reasons=reasons)
