"""The product's own words about people and what they bought, in the reader's language: a
greeting's first name, "your desk lamp and one other item", "Keyboard and 2 more", a list of
quoted words. Pages, emails and the models' own summaries share them; they need an app context
(for the reader's language), never a request.
"""

from __future__ import annotations

from babel.lists import format_list
from flask_babel import get_locale, gettext, ngettext

from surveys.formats import current_language
from surveys.languages import is_right_to_left


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
    first = isolated(first, language)
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
    first = isolated(names[0], current_language())
    if len(names) == 1:
        return first
    return ngettext(
        "%(item)s and %(num)d more", "%(item)s and %(num)d more", len(names) - 1, item=first
    )


def isolated(name: str, language: str) -> str:
    if is_right_to_left(language):
        # A Latin product name inside Arabic text: isolated, so its words keep their order and
        # the brackets around it stay where the sentence put them.
        return f"\u2068{name}\u2069"
    return name


def quoted_list(words: list[str]) -> str:
    """“refund”, “crushed” and “rude”: quoted, joined the way the reader's language lists."""
    # Each language's own quote marks („…“ in German, « … » in French), each isolated in a
    # right-to-left language so that a Latin word keeps its marks around it.
    quoted = [isolated(gettext("“%(words)s”", words=word), current_language()) for word in words]
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
