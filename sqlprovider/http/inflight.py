"""A process-wide cap on requests in flight, over every connection and every account.

Each token has its own pacer, and each account its own workers, so twenty accounts at 16
parallel requests each would open 320 connections at once on a small machine. `CappedLimiter`
wraps a token's `RateLimiter`: a request first waits for its token's budget, then for one of
the process's `MAX_IN_FLIGHT` slots, and gives both back when its answer has arrived. A slot is
held only while a request is on the wire, never while a token waits for its own budget or a
retry backs off, so one throttled account does not slow the others down.
`SQLPROVIDER_MAX_IN_FLIGHT` sets the cap (default 64). Imports `http.ratelimit` and
`http.waits` only.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlprovider.http.ratelimit import RateLimiter
from sqlprovider.http.waits import WaitBudget

MAX_IN_FLIGHT = max(1, int(os.environ.get("SQLPROVIDER_MAX_IN_FLIGHT", "") or 64))
_slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)


class CappedLimiter(RateLimiter):
    """A token's pacer that also takes one of the process's in-flight slots per request."""

    def __init__(self, inner: RateLimiter) -> None:  # noqa: D107 - no state of its own
        self._inner = inner

    @property
    def api_remaining(self) -> int | None:  # type: ignore[override]
        """What the API last said was left of the token's budget."""
        return self._inner.api_remaining

    def acquire(
        self, cancel: threading.Event | None = None, budget: WaitBudget | None = None
    ) -> float:
        """Wait for the token's budget, then for a slot; return the seconds waited."""
        waited = self._inner.acquire(cancel, budget)
        started = time.monotonic()
        while not _slots.acquire(timeout=0.25):
            if cancel is not None and cancel.is_set():
                self._inner.release()
                raise InterruptedError("the statement was interrupted while waiting to send")
        return waited + time.monotonic() - started

    def release(self) -> None:
        """The request has finished: give back its slot and count it against the token."""
        _slots.release()
        self._inner.release()

    def observe(self, headers: Mapping[str, str], status: int) -> None:
        """Let the token's pacer learn from a response."""
        self._inner.observe(headers, status)

    def pause(self, seconds: float) -> None:
        """Hold every request of the token for `seconds`."""
        self._inner.pause(seconds)

    @property
    def limits(self) -> tuple[tuple[int, float], ...]:
        """The token's (requests, seconds) windows."""
        return self._inner.limits

    def __getattr__(self, name: str) -> Any:
        # Anything else the pacer grows is the token's pacer's (this class only adds slots).
        if name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)
