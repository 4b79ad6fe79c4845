"""When a failed request is worth another try, and how long to wait before it."""

from __future__ import annotations

import random

from sqlprovider.spec.record import Record

#: Statuses that say "try again later"; every other 4xx is final.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryPolicy(Record):
    """Exponential backoff with full jitter, bounded in attempts and in each wait.

    Attributes:
        attempts: total tries of one request (1 means no retry).
        base_seconds: the first backoff ceiling; it doubles with each attempt.
        cap_seconds: no single wait is longer than this (a `retry-after` is honoured up to it).
    """

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap_seconds)
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)
