"""Jinja filters and globals shared by pages and emails."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import gettext, ngettext

from surveys import clock
from surveys.i18n import current_language, local_datetime
from surveys.languages import is_right_to_left
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


def purchase_phrase(purchase) -> str:
    """What they bought, in the reader's language ("your Keyboard and 2 more", "tu Keyboard y
    2 más"): plural rules from the catalog, so each language counts the rest its own way."""
    names = (
        [item.name or item.sku for item in purchase.items if item.name or item.sku]
        if (purchase is not None)
        else []
    )
    if not names:
        return gettext("your recent order")
    if is_right_to_left(current_language()):
        # A Latin product name inside Arabic text: isolated, so its words keep their order and
        # the brackets around it stay where the sentence put them.
        names = [f"\u2068{name}\u2069" for name in names]
    if len(names) == 1:
        return gettext("your %(item)s", item=names[0])
    return ngettext(
        "your %(item)s and %(num)d more",
        "your %(item)s and %(num)d more",
        len(names) - 1,
        item=names[0],
    )


def format_datetime(moment: datetime | None) -> str:
    """A moment in the reader's language and time zone (see surveys.i18n.local_datetime)."""
    return local_datetime(moment)


def register(app: Flask) -> None:
    app.jinja_env.filters["relative_time"] = relative_time
    app.jinja_env.filters["purchase_phrase"] = purchase_phrase
    app.jinja_env.filters["survey_reason"] = survey_reason
    app.jinja_env.globals["now"] = clock.now
