"""Durations in words, as the pages, emails and timelines say them to people."""

from __future__ import annotations

import math

from flask_babel import gettext, ngettext

# Deadlines and waits already over: to the minute, in the largest whole unit.
DAYS_TO_MINUTES = (("day", 86400), ("hour", 3600), ("minute", 60))
# A wait before trying again (the longest is an hour): to the second under a minute.
MINUTES_TO_SECONDS = (("minute", 60), ("second", 1))


def _count_of(unit: str, count: int) -> str:
    # One whole phrase per unit, so each language counts with its own plural rules.
    if unit == "day":
        return ngettext("%(num)d day", "%(num)d days", count)
    if unit == "hour":
        return ngettext("%(num)d hour", "%(num)d hours", count)
    if unit == "minute":
        return ngettext("%(num)d minute", "%(num)d minutes", count)
    return ngettext("%(num)d second", "%(num)d seconds", count)


def _less_than_one(unit: str) -> str:
    if unit == "minute":
        return gettext("less than a minute")
    return gettext("less than a second")


def duration_words(
    seconds: float,
    *,
    units: tuple[tuple[str, int], ...] = DAYS_TO_MINUTES,
    round_up: bool = False,
) -> str:
    """'3 hours', '2 days', '1 minute': a duration as a person says it, in the reader's
    language, in the largest of `units` it fills. Rounded down, unless `round_up` (a wait is
    never said shorter than it is).
    """
    for unit, size in units:
        if seconds >= size:
            count = math.ceil(seconds / size) if round_up else int(seconds // size)
            return _count_of(unit, count)
    return _less_than_one(units[-1][0])
