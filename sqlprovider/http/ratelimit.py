"""One pacer per token, shared by every connection in the process.

DigitalOcean counts each request against a token for a sliding hour (5,000) and a sliding
minute (250, the burst limit). The limiter keeps its own sliding windows so a large fan-out is
paced instead of answered with a storm of 429s, and it defers to what the API says: an empty
`ratelimit-remaining` pauses until `ratelimit-reset`, and a `retry-after` pauses every worker.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence

#: DigitalOcean's documented limits per token: (requests, window in seconds).
DEFAULT_WINDOWS: tuple[tuple[int, float], ...] = ((250, 60.0), (5000, 3600.0))

_registry: dict[tuple[str, tuple[tuple[int, float], ...]], RateLimiter] = {}
_registry_lock = threading.Lock()


class RateLimiter:
    """Sliding-window pacing for one token, safe to share between threads.

    A request counts from when its answer arrives, not from when it was sent: the API counts
    it from when it arrived there, which is in between, so the local window never reopens
    before the API's does (a request sent early on a slow new connection would otherwise let
    the next window's first request reach the API while the old one still counts). Requests
    in flight count against every window until they finish.
    """

    def __init__(self, windows: Sequence[tuple[int, float]] = DEFAULT_WINDOWS) -> None:
        self._windows = [(limit, seconds, deque[float]()) for limit, seconds in windows]
        self._in_flight = 0
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._finished = threading.Condition(self._lock)

    @property
    def limits(self) -> tuple[tuple[int, float], ...]:
        """The (requests, seconds) windows this pacer keeps (what an estimate is timed under)."""
        return tuple((limit, seconds) for limit, seconds, _ in self._windows)

    def acquire(self, cancel: threading.Event | None = None) -> float:
        """Block until one more request fits every window; return the seconds waited.

        Every `acquire` must be followed by one `release` when the request has finished.

        Raises:
            InterruptedError: when `cancel` is set while waiting.
        """
        started = time.monotonic()
        with self._lock:
            while True:
                now = time.monotonic()
                wait = max(0.0, self._paused_until - now)
                for limit, seconds, sent in self._windows:
                    while sent and sent[0] <= now - seconds:
                        sent.popleft()
                    if len(sent) + self._in_flight >= limit:
                        oldest = len(sent) + self._in_flight - limit
                        # Full of requests still in flight: wait for one to finish.
                        wait = max(
                            wait, sent[oldest] + seconds - now if oldest < len(sent) else 0.05
                        )
                if wait <= 0:
                    self._in_flight += 1
                    return time.monotonic() - started
                if cancel is not None and cancel.is_set():
                    raise InterruptedError(
                        "the statement was interrupted while waiting for the rate limit"
                    )
                self._finished.wait(min(wait, 0.25))

    def release(self) -> None:
        """A request acquired earlier has been answered (or failed): count it from now."""
        with self._lock:
            self._in_flight -= 1
            now = time.monotonic()
            for _, _, sent in self._windows:
                sent.append(now)
            self._finished.notify_all()

    def observe(self, headers: Mapping[str, str], status: int) -> None:
        """Learn from a response: pause on a `retry-after` or an empty budget, and count the
        requests other clients of the same token made (the API's `ratelimit-remaining` is lower
        than what this process alone would leave)."""
        retry_after = _number(headers.get("retry-after"))
        if status == 429 and retry_after is not None:
            self.pause(retry_after)
        remaining = _number(headers.get("ratelimit-remaining"))
        reset = _number(headers.get("ratelimit-reset"))
        if remaining is None:
            return
        if remaining <= 0 and reset is not None:
            self.pause(max(0.0, reset - time.time()))
        self._absorb(int(remaining), reset)

    def _absorb(self, remaining: int, reset: float | None) -> None:
        """Fill the longest window with requests this process did not make but the API counted."""
        limit, seconds, sent = max(self._windows, key=lambda w: w[1])
        with self._lock:
            now = time.monotonic()
            unseen = limit - len(sent) - self._in_flight - remaining
            if unseen <= 0:
                return
            # They expire no earlier than the API's reset time (when its oldest request expires).
            expires = now + max(0.0, reset - time.time()) if reset is not None else now + seconds
            stamp = min(now, expires - seconds)
            merged = sorted([*sent, *([stamp] * min(unseen, limit))])
            sent.clear()
            sent.extend(merged)

    def pause(self, seconds: float) -> None:
        """Hold every request of this token for `seconds` from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


def limiter_for(fingerprint: str, windows: Sequence[tuple[int, float]]) -> RateLimiter:
    """The process-wide limiter of one token (by fingerprint) and set of windows."""
    key = (fingerprint, tuple((int(n), float(s)) for n, s in windows))
    with _registry_lock:
        if key not in _registry:
            _registry[key] = RateLimiter(key[1])
        return _registry[key]


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
