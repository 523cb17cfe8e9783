"""Jinja filters and globals shared by pages and emails."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from surveys import clock
from surveys.services.surveys.scheduling import survey_reason


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
        return "just now"
    count = int(seconds // size)
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"in {words}" if future else f"{words} ago"


def first_name(name: str | None) -> str | None:
    """How we greet someone: the first word of the name they gave us."""
    return name.split()[0] if name and name.strip() else None


SMALL_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def purchase_phrase(purchase) -> str:
    """What they bought, as a person writes it after a verb.

    "your desk lamp", "your 27-inch monitor and one other item", "your keyboard and 3 other
    items". One function on purpose: the translation of this phrase (with each language's
    plural rules) replaces it whole.
    """
    if purchase is None:
        return "your recent order"
    names = [item.name or item.sku for item in purchase.items if item.name or item.sku]
    if not names:
        # Order ids are often machine-made (a Stripe session id); they read badly to people.
        return "your recent order"
    phrase = f"your {mid_sentence(names[0])}"
    others = len(names) - 1
    if others == 0:
        return phrase
    count = SMALL_NUMBERS[others] if others < len(SMALL_NUMBERS) else str(others)
    return f"{phrase} and {count} other item{'' if others == 1 else 's'}"


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


def format_datetime(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%-d %b %Y, %H:%M UTC")


def register(app: Flask) -> None:
    app.jinja_env.filters["relative_time"] = relative_time
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["purchase_phrase"] = purchase_phrase
    app.jinja_env.filters["survey_reason"] = survey_reason
    app.jinja_env.globals["now"] = clock.now
