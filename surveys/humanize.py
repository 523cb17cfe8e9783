"""Durations in words, as the pages, emails and timelines say them to people."""

from __future__ import annotations

import math

# Deadlines and waits already over: to the minute, in the largest whole unit.
DAYS_TO_MINUTES = (("day", 86400), ("hour", 3600), ("minute", 60))
# A wait before trying again (the longest is an hour): to the second under a minute.
MINUTES_TO_SECONDS = (("minute", 60), ("second", 1))


def duration_words(
    seconds: float,
    *,
    units: tuple[tuple[str, int], ...] = DAYS_TO_MINUTES,
    round_up: bool = False,
) -> str:
    """'3 hours', '2 days', '1 minute': a duration as a person says it, in the largest of
    `units` it fills. Rounded down, unless `round_up` (a wait is never said shorter than it is).
    """
    for unit, size in units:
        if seconds >= size:
            count = math.ceil(seconds / size) if round_up else int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"less than a {units[-1][0]}"
