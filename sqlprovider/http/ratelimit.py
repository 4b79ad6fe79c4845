"""One pacer per token and API URL, shared by every connection in the process.

The API counts each request against a token for sliding windows (DigitalOcean: 5,000 an hour
and 250 a minute; the provider spec says which). The limiter keeps its own sliding windows so a
large fan-out is paced instead of answered with a storm of 429s, and it defers to what the API
says: an empty `ratelimit-remaining` pauses until `ratelimit-reset`, and a `retry-after` pauses
every worker. What a header can impose is bounded: a reset is read against the server's own
`Date` (so clock skew does not stretch it) and capped at the longest window, a retry-after at
two of the shortest, and every wait is claimed from the statement's `WaitBudget` first, so a
wait past `max_wait` fails the statement at once instead of holding it. Limiters are keyed by
API URL as well as token: a pause from one server never holds requests to another.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence

from sqlprovider.http.waits import WaitBudget

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

    def __init__(self, windows: Sequence[tuple[int, float]] = ()) -> None:
        self._windows = [(limit, seconds, deque[float]()) for limit, seconds in windows]
        self._in_flight = 0
        #: Until when a 429's retry-after holds every request (monotonic).
        self._retry_until = 0.0
        #: Until when the API said its budget is empty (monotonic); lifted by a fresh budget.
        self._empty_until = 0.0
        #: What the API last said was left (None before it said anything).
        self.api_remaining: int | None = None
        longest = max((s for _, s in windows), default=3600.0)
        shortest = min((s for _, s in windows), default=60.0)
        self.max_reset_seconds = longest
        self.max_retry_after = 2 * shortest
        self._lock = threading.Lock()
        self._finished = threading.Condition(self._lock)

    @property
    def limits(self) -> tuple[tuple[int, float], ...]:
        """The (requests, seconds) windows this pacer keeps (what an estimate is timed under)."""
        return tuple((limit, seconds) for limit, seconds, _ in self._windows)

    def acquire(
        self, cancel: threading.Event | None = None, budget: WaitBudget | None = None
    ) -> float:
        """Block until one more request fits every window; return the seconds waited.

        Every `acquire` must be followed by one `release` when the request has finished.

        Raises:
            InterruptedError: when `cancel` is set while waiting.
            WaitTooLongError: when the wait would pass the statement's `budget`.
        """
        started = time.monotonic()
        with self._lock:
            while True:
                now = time.monotonic()
                wait = max(0.0, self._retry_until - now, self._empty_until - now)
                why = self._why(now) if wait > 0 else "the local pacer's window"
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
                if budget is not None:
                    budget.claim(wait, why=why, remaining=self.api_remaining)
                if cancel is not None and cancel.is_set():
                    raise InterruptedError(
                        "the statement was interrupted while waiting for the rate limit"
                    )
                self._finished.wait(min(wait, 0.25))

    def _why(self, now: float) -> str:
        if self._retry_until > now:
            return "the API's retry-after"
        return "the API's rate limit (ratelimit-remaining 0 until ratelimit-reset)"

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
        than what this process alone would leave). Values that are not finite numbers are
        ignored; the pause any header imposes is capped."""
        retry_after = _number(headers.get("retry-after"))
        if status == 429 and retry_after is not None:
            self._hold("retry", min(max(retry_after, 0.0), self.max_retry_after))
        remaining = _number(headers.get("ratelimit-remaining"))
        reset = _number(headers.get("ratelimit-reset"))
        if remaining is None:
            return
        self.api_remaining = max(0, int(remaining))
        delay = None if reset is None else self.reset_delay(reset, headers.get("date"))
        if remaining <= 0 and delay is not None:
            self._hold("empty", delay)
        elif remaining > 0:
            with self._lock:
                self._empty_until = 0.0  # the API's budget has reopened
        self._absorb(int(remaining), delay)

    def reset_delay(self, reset: float, date: str | None) -> float:
        """Seconds until `ratelimit-reset` (epoch), by the server's clock when it sent a `Date`
        (so a skewed local clock does not stretch or skip it), capped at the longest window."""
        now = time.time()
        server_now = _http_date(date)
        delay = reset - (server_now if server_now is not None else now)
        if server_now is not None:
            delay += 1.0  # `Date` has whole seconds: never reopen before the API does
        return min(max(delay, 0.0), self.max_reset_seconds)

    def _hold(self, kind: str, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            if kind == "retry":
                self._retry_until = max(self._retry_until, until)
            else:
                self._empty_until = max(self._empty_until, until)

    def _absorb(self, remaining: int, delay: float | None) -> None:
        """Fill the longest window with requests this process did not make but the API counted."""
        if not self._windows:
            return
        limit, seconds, sent = max(self._windows, key=lambda w: w[1])
        with self._lock:
            now = time.monotonic()
            unseen = limit - len(sent) - self._in_flight - remaining
            if unseen <= 0:
                return
            # They expire no earlier than the API's reset time (when its oldest request expires).
            expires = now + delay if delay is not None else now + seconds
            stamp = min(now, expires - seconds)
            merged = sorted([*sent, *([stamp] * min(unseen, limit))])
            sent.clear()
            sent.extend(merged)

    def pause(self, seconds: float) -> None:
        """Hold every request of this token for `seconds` from now (as a retry-after would)."""
        self._hold("retry", seconds)


def limiter_for(
    fingerprint: str, windows: Sequence[tuple[int, float]], api_url: str = ""
) -> RateLimiter:
    """The process-wide limiter of one token (by fingerprint) at one API URL."""
    key = (f"{api_url} {fingerprint}", tuple((int(n), float(s)) for n, s in windows))
    with _registry_lock:
        if key not in _registry:
            _registry[key] = RateLimiter(key[1])
        return _registry[key]


def _number(value: str | None) -> float | None:
    """A finite number from a header, else None (`nan`, `inf` and text are ignored)."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _http_date(value: str | None) -> float | None:
    """The epoch seconds of an HTTP `Date` header, or None when absent or unreadable."""
    if not value:
        return None
    # Here, not at the top: `email` costs every start a few ms, before any answer has a date.
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
