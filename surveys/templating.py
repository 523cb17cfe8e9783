"""Jinja filters and globals shared by pages and emails."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import gettext, ngettext

from surveys import clock
from surveys.formats import local_datetime
from surveys.inbox.survey_reasons import survey_reason_words
from surveys.wording import purchase_phrase


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


def format_datetime(moment: datetime | None) -> str:
    """A moment in the reader's language and time zone (see surveys.formats.local_datetime)."""
    return local_datetime(moment)


def register(app: Flask) -> None:
    app.jinja_env.filters["relative_time"] = relative_time
    app.jinja_env.filters["purchase_phrase"] = purchase_phrase
    app.jinja_env.filters["survey_reason"] = survey_reason_words
    app.jinja_env.globals["now"] = clock.now
