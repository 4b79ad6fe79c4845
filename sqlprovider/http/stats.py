"""Counters of the API work one statement caused: what `.stats` and `sqlprovider_stats` show."""

from __future__ import annotations

import threading
import time


class RequestStats:
    """Thread-safe counters; worker threads add to them while the statement runs.

    Attributes:
        requests: HTTP requests sent (retries included).
        pages: pages of results received.
        retries: requests sent again after a retryable failure.
        rate_limited: 429 answers received.
        cache_hits: responses served from the response cache or shared with an identical call.
        bytes: response body bytes received.
        reused: pages of a list answered from this statement's earlier read of the same page
            (a nested-loop join scans an unkeyed list once per outer row; only the first reads).
        reuse_dropped: pages not kept for reuse because the statement's reuse bound (bytes)
            was passed; an identical later read of such a page is sent again.
        api_seconds: time spent in HTTP requests, summed over parallel workers.
        throttle_seconds: wall-clock time the statement spent with at least one worker waiting
            for the rate limiter (not a sum over workers: eight workers waiting the same 60 s
            add 60 s, not 480 s).
    """

    #: The counters, in the order `as_dict` lists them.
    COUNTERS = (
        "requests",
        "pages",
        "retries",
        "rate_limited",
        "cache_hits",
        "bytes",
        "reused",
        "reuse_dropped",
        "api_seconds",
        "throttle_seconds",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.pages = 0
        self.retries = 0
        self.rate_limited = 0
        self.cache_hits = 0
        self.bytes = 0
        self.reused = 0
        self.reuse_dropped = 0
        self.api_seconds = 0.0
        self.throttle_seconds = 0.0
        self._lock = threading.Lock()
        #: Waiting periods seen so far, merged: (start, end) in monotonic seconds.
        self._waits: list[tuple[float, float]] = []

    def __repr__(self) -> str:
        return f"RequestStats({self.as_dict()})"

    def add(self, **amounts: float) -> None:
        """Add to one or more counters at once.

        `throttle_seconds=d` means "a worker has just waited d seconds": the wait is taken as
        the period ending now, and the counter grows only by the part of it no other worker's
        wait already covered.
        """
        with self._lock:
            for name, amount in amounts.items():
                if name == "throttle_seconds":
                    self.throttle_seconds += self._cover(float(amount))
                else:
                    setattr(self, name, getattr(self, name) + amount)

    def _cover(self, seconds: float) -> float:
        """Merge the wait that ended now into `_waits`; return the newly covered seconds."""
        if seconds < 0.001:
            return 0.0  # the pacer let the request through at once: that is no wait
        end = time.monotonic()
        start = end - seconds
        covered_before = sum(b - a for a, b in self._waits)
        merged: list[tuple[float, float]] = []
        for a, b in sorted([*self._waits, (start, end)]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self._waits = merged
        return max(0.0, sum(b - a for a, b in merged) - covered_before)

    def as_dict(self) -> dict[str, float]:
        """The counters as a plain dict (times rounded to milliseconds)."""
        with self._lock:
            out: dict[str, float] = {}
            for name in self.COUNTERS:
                value = getattr(self, name)
                out[name] = round(value, 3) if isinstance(value, float) else value
            return out
