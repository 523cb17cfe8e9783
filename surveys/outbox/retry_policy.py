"""When a message that failed for a while is tried again: backoff with jitter, then give up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: ~1, 2, 4 … minutes, at most an hour, 12 tries."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 12

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt."""
        seconds = min(self.cap_seconds, self.base_seconds * 2**attempts)
        # Jitter spreads the retries of messages that failed together (one
        # outage) so they do not all come back in the same second.
        seconds *= random.uniform(0.5, 1.0)
        if retry_after is not None:  # the provider asked for at least this long
            seconds = max(seconds, min(retry_after, self.cap_seconds))
        return timedelta(seconds=seconds)
