"""Counters of the API work one statement caused: what `.stats` and `sqlprovider_stats` show."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
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
        throttle_seconds: time spent waiting for the rate limiter, summed over workers.
    """

    requests: int = 0
    pages: int = 0
    retries: int = 0
    rate_limited: int = 0
    cache_hits: int = 0
    bytes: int = 0
    reused: int = 0
    reuse_dropped: int = 0
    api_seconds: float = 0.0
    throttle_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts: float) -> None:
        """Add to one or more counters at once."""
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, float]:
        """The counters as a plain dict (times rounded to milliseconds)."""
        with self._lock:
            out: dict[str, float] = {}
            for f in fields(self):
                if not f.name.startswith("_"):
                    value = getattr(self, f.name)
                    out[f.name] = round(value, 3) if isinstance(value, float) else value
            return out
