"""Per-token sliding-window rate limits, as the DigitalOcean API applies them.

The API allows 5,000 requests per hour and 250 per minute (the burst limit) per token; each
request counts for one window length from when it was made, so there is no fixed reset. This
module owns those two windows and the values of the `ratelimit-*` and `retry-after` headers.
The "hour" is 60 "minutes", and a minute lasts `minute_seconds`, so tests and benchmarks can
shrink time. Requests refused with 429 are not counted. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """The outcome of counting one request: allowed or not, and the header values."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        """Return the `ratelimit-*` headers (and `retry-after` for a refused burst)."""
        out = {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(self.reset),
        }
        if self.retry_after is not None:
            out["retry-after"] = str(self.retry_after)
        return out


class RateLimiter:
    """Counts requests per token in a per-minute and a per-hour sliding window (thread-safe)."""

    def __init__(
        self,
        per_minute: int = 250,
        per_hour: int = 5000,
        minute_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Set the limits; `clock` returns epoch seconds (replaceable in tests)."""
        if per_minute < 1 or per_hour < 1 or minute_seconds <= 0:
            raise ValueError("per_minute and per_hour must be >= 1 and minute_seconds > 0")
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.minute_seconds = minute_seconds
        self.hour_seconds = 60.0 * minute_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._minute: dict[str, deque[float]] = {}
        self._hour: dict[str, deque[float]] = {}

    def check(self, token: str) -> Verdict:
        """Count one request of `token` if the limits allow it, and return the verdict."""
        now = self._clock()
        with self._lock:
            minute = self._minute.setdefault(token, deque())
            hour = self._hour.setdefault(token, deque())
            while minute and minute[0] <= now - self.minute_seconds:
                minute.popleft()
            while hour and hour[0] <= now - self.hour_seconds:
                hour.popleft()
            if len(hour) >= self.per_hour:
                return Verdict(False, self.per_hour, 0, self._reset(hour, now))
            if len(minute) >= self.per_minute:
                wait = max(1, math.ceil(minute[0] + self.minute_seconds - now))
                remaining = self.per_hour - len(hour)
                return Verdict(False, self.per_hour, remaining, self._reset(hour, now), wait)
            minute.append(now)
            hour.append(now)
            return Verdict(True, self.per_hour, self.per_hour - len(hour), self._reset(hour, now))

    def _reset(self, hour: deque[float], now: float) -> int:
        # Epoch second at which the oldest counted request leaves the hourly window.
        oldest = hour[0] if hour else now
        return math.ceil(oldest + self.hour_seconds)
