"""The time, as the app sees it.

Services take `now` as an argument; views, CLI commands and the worker get it
from here. Tests install a `FrozenClock` on the app to move time forward
without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


def now() -> datetime:
    """The current time of the running app."""
    return current_app.extensions["clock"].now()
