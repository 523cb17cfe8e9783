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


def purchase_phrase(purchase) -> str:
    """What they bought, as it reads after "your" ("your Keyboard and 2 more")."""
    if purchase is None:
        return "your recent order"
    summary = purchase.summary
    return summary if summary.startswith("your ") else f"your {summary}"


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
