"""A process-wide cap on requests in flight, over every connection and every account.

Each token has its own pacer, and each account its own workers, so twenty accounts at 16
parallel requests each would open 320 connections at once on a small machine. `CappedLimiter`
wraps a token's `RateLimiter`: a request first waits for its token's budget, then for one of
the process's `MAX_IN_FLIGHT` slots, and gives both back when its answer has arrived. A slot is
held only while a request is on the wire, never while a token waits for its own budget or a
retry backs off, so one throttled account does not slow the others down.
`SQLPROVIDER_MAX_IN_FLIGHT` sets the cap (default 128: eight accounts at the default 16 parallel
requests each run unhindered, so a handful of accounts take about the time of one, while
twenty accounts' 320 workers still share 128 slots). Imports `http.ratelimit` and
`http.waits` only.

The slots are handed out first come, first served (`FairSlots`). With a plain semaphore a
worker that gives a slot back takes it again at once, ahead of the workers already waiting,
so the accounts that happen to be ahead keep their lead: they finish early, and the last
account is left to finish alone on its own few workers, under the cap's parallelism.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from sqlprovider.http.ratelimit import RateLimiter
from sqlprovider.http.waits import WaitBudget

MAX_IN_FLIGHT = max(1, int(os.environ.get("SQLPROVIDER_MAX_IN_FLIGHT", "") or 128))


class FairSlots:
    """A counting semaphore that serves its waiters in the order they came.

    A released slot goes straight to the longest waiter (it is never free for a newcomer to
    take first), so every account's workers get slots in turn.
    """

    def __init__(self, slots: int) -> None:
        self._lock = threading.Lock()
        self._free = slots
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, cancel: threading.Event | None = None) -> None:
        """Take a slot, waiting in line for it.

        Raises:
            InterruptedError: `cancel` was set while waiting (no slot is held then).
        """
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            handed = threading.Event()
            self._waiters.append(handed)
        while not handed.wait(0.25):
            if cancel is None or not cancel.is_set():
                continue
            with self._lock:
                if not handed.is_set():
                    self._waiters.remove(handed)
                    raise InterruptedError("the statement was interrupted while waiting to send")
            break  # the slot came in the meantime: keep it (the caller was about to send)

    @property
    def waiting(self) -> int:
        """How many are in line for a slot."""
        with self._lock:
            return len(self._waiters)

    def release(self) -> None:
        """Give a slot back: to the first waiter if there is one."""
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._free += 1


_slots = FairSlots(MAX_IN_FLIGHT)


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
        try:
            _slots.acquire(cancel)
        except InterruptedError:
            self._inner.release()
            raise
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
