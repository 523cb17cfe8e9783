"""Jinja filters and globals shared by pages and emails."""

from __future__ import annotations

from datetime import datetime

from babel.lists import format_list
from flask import Flask
from flask_babel import get_locale, gettext, ngettext

from surveys import clock
from surveys.i18n import current_language, local_datetime
from surveys.inbox.survey_reasons import survey_reason_words
from surveys.languages import is_right_to_left
from surveys.services.cases.queries import answer_words


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """'in 3 hours', '2 days ago': how a person reads a deadline."""
    if moment is None:
        return ""
    now = now or clock.now()
    seconds = (moment - now).total_seconds()
    future = seconds >= 0
    seconds = abs(seconds)
    units = (("day", 86400), ("hour", 3600), ("minute", 60))
    unit, size = next(((u, s) for u, s in units if seconds >= s), (None, 0))
    if unit is None:
        return gettext("just now")
    count = int(seconds // size)
    # Whole phrases per unit and direction: languages put "in"/"ago" in different places.
    if future:
        phrases = {
            "day": ngettext("in %(num)d day", "in %(num)d days", count),
            "hour": ngettext("in %(num)d hour", "in %(num)d hours", count),
            "minute": ngettext("in %(num)d minute", "in %(num)d minutes", count),
        }
    else:
        phrases = {
            "day": ngettext("%(num)d day ago", "%(num)d days ago", count),
            "hour": ngettext("%(num)d hour ago", "%(num)d hours ago", count),
            "minute": ngettext("%(num)d minute ago", "%(num)d minutes ago", count),
        }
    return phrases[unit]


def first_name(name: str | None) -> str | None:
    """How we greet someone: the first word of the name they gave us."""
    return name.split()[0] if name and name.strip() else None


SMALL_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def purchase_phrase(purchase) -> str:
    """What they bought, as a person writes it after a verb, in the reader's language.

    "your desk lamp", "your 27-inch monitor and one other item", "tu Monitor y 2 artículos
    más": one phrase per count from the catalog, so each language counts the rest its own way
    (Babel's plural rules).
    """
    names = purchase.item_names if purchase is not None else []
    if not names:
        # Order ids are often machine-made (a Stripe session id); they read badly to people.
        return gettext("your recent order")
    language = current_language()
    first = mid_sentence(names[0]) if language in LOWER_CASED_MID_SENTENCE else names[0]
    first = _isolated(first, language)
    others = len(names) - 1
    if others == 0:
        return gettext("your %(item)s", item=first)
    words = NUMBER_WORDS.get(language, ())
    return ngettext(
        "your %(item)s and %(count)s other item",
        "your %(item)s and %(count)s other items",
        others,
        item=first,
        count=words[others] if others < len(words) else str(others),
    )


def purchase_summary(purchase) -> str:
    """What was bought, in a few words for the people who serve the customer, in the reader's
    language: "Keyboard", "Keyboard and 2 more" ("Teclado y 2 artículos más")."""
    names = purchase.item_names
    if not names:
        # Order ids are often machine-made (a Stripe session id); they read badly to people.
        return gettext("your recent order")
    first = _isolated(names[0], current_language())
    if len(names) == 1:
        return first
    return ngettext(
        "%(item)s and %(num)d more", "%(item)s and %(num)d more", len(names) - 1, item=first
    )


def _isolated(name: str, language: str) -> str:
    if is_right_to_left(language):
        # A Latin product name inside Arabic text: isolated, so its words keep their order and
        # the brackets around it stay where the sentence put them.
        return f"\u2068{name}\u2069"
    return name


def quoted_list(words: list[str]) -> str:
    """“refund”, “crushed” and “rude”: quoted, joined the way the reader's language lists."""
    # Each isolated in a right-to-left language, so a Latin word keeps its quotes around it.
    # Each language's own quote marks („…“ in German, « … » in French), each isolated in a
    # right-to-left language so that a Latin word keeps its marks around it.
    quoted = [_isolated(gettext("“%(words)s”", words=word), current_language()) for word in words]
    locale = get_locale()
    if locale is not None and locale.language != "en":
        return format_list(quoted, locale=locale)
    # English keeps the house style: no comma before the last "and".
    return ", ".join(quoted[:-1]) + " and " + quoted[-1] if len(quoted) > 1 else quoted[0]


# Small counts read better in words ("two other items"); languages not listed show digits.
NUMBER_WORDS = {"en": SMALL_NUMBERS}
# Languages whose sentences lower-case a name written like a sentence ("your desk lamp");
# German writes nouns with a capital, and the others keep the shop's spelling for now.
LOWER_CASED_MID_SENTENCE = frozenset({"en"})


def mid_sentence(name: str) -> str:
    """An item's name as it reads inside a sentence: "Desk lamp" becomes "desk lamp".

    Only a name written like a sentence (its first word capitalised, the others in lower
    case: "Keyboard", "Desk lamp") loses its capital; "iPhone 15", "USB-C cable" and "Walnut
    Keyboard Pro" are written as names, and kept as given.
    """
    words = name.split()
    first = words[0] if words else ""
    sentence_case = (
        first[:1].isupper()
        and (first[1:].islower() or len(first) == 1)
        and all(not any(ch.isupper() for ch in word) for word in words[1:])
    )
    return first[:1].lower() + name.lstrip()[1:] if sentence_case else name


def answer_in_words(answer) -> str:
    """An answer as the customer saw it, a score as the reader says it ("4 out of 10", "4 de
    10"); choices in the words the customer chose, text verbatim."""
    question = answer.question
    if question.type == "scale" and question.max_value is not None and answer.value:
        return gettext("%(score)s out of %(max)s", score=answer.value, max=question.max_value)
    return answer_words(answer)


def format_datetime(moment: datetime | None) -> str:
    """A moment in the reader's language and time zone (see surveys.i18n.local_datetime)."""
    return local_datetime(moment)


def register(app: Flask) -> None:
    app.jinja_env.filters["relative_time"] = relative_time
    app.jinja_env.filters["purchase_phrase"] = purchase_phrase
    app.jinja_env.filters["survey_reason"] = survey_reason_words
    app.jinja_env.globals["now"] = clock.now
