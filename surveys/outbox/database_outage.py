"""How the worker waits out a database it cannot reach: one line when it goes, one when it is back.

Between the two it tries again after 1, 2, 4 … seconds, at most 30 apart, so a
restart or a fail-over is noticed within seconds and a long outage costs a
connection attempt every half minute, not a traceback every pass.
"""

from __future__ import annotations

import logging
import threading
import time

from surveys.db import database_error_summary

log = logging.getLogger(__name__)

FIRST_WAIT_SECONDS = 1.0
LONGEST_WAIT_SECONDS = 30.0


class DatabaseOutage:
    """Tracks one outage at a time for a worker; `wait` backs off, `over` says it ended."""

    def __init__(
        self,
        stopping: threading.Event,
        *,
        first_wait: float = FIRST_WAIT_SECONDS,
        longest_wait: float = LONGEST_WAIT_SECONDS,
    ) -> None:
        self._stopping = stopping
        self.first_wait = first_wait
        self.longest_wait = longest_wait
        self.began_at: float | None = None
        self._tries = 0

    @property
    def ongoing(self) -> bool:
        return self.began_at is not None

    def wait(self, error: BaseException) -> bool:
        """Sleep before the next try (saying so once per outage); False when told to stop."""
        if self.began_at is None:
            self.began_at = time.monotonic()
            log.warning(
                "Database unreachable (%s). Waiting for it: trying again in %g s, then less "
                "and less often (at most every %g s); nothing is lost meanwhile.",
                database_error_summary(error),
                self.first_wait,
                self.longest_wait,
            )
        delay = min(self.longest_wait, self.first_wait * 2**self._tries)
        self._tries += 1
        return not self._stopping.wait(delay)

    def over(self) -> None:
        """The database answered: say so if it had been away."""
        if self.began_at is None:
            return
        log.warning("Database reachable again after %.0f s.", time.monotonic() - self.began_at)
        self.began_at = None
        self._tries = 0
