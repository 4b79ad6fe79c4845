"""How long one statement may spend waiting (rate limits, backoff), and the error past that.

A statement's workers wait in parallel, so the budget counts wall-clock time covered by at
least one wait, not the sum over workers. A wait that would take the statement past its
`max_wait` is not started: the statement fails at once with a `WaitTooLongError`, which the
client turns into a `RateLimitError` naming the request, the time the API's budget reopens and
how many requests it said remained. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import threading
import time

#: The default bound on one statement's waiting, in seconds (`max_wait`, `--max-wait`): long
#: enough for DigitalOcean's per-minute limit to reopen a few times in a large fan-out.
DEFAULT_MAX_WAIT = 300.0


class WaitTooLongError(Exception):
    """Waiting `needed` more seconds would pass the statement's `max_wait`.

    Attributes:
        needed: seconds the wait would take.
        left: seconds of the budget still unspent.
        max_wait: the statement's whole budget.
        reopens_at: wall-clock time (epoch seconds) the wait would end.
        remaining: requests the API said were left in its budget, when it said.
        why: what imposed the wait (``the API's rate limit``, ``retry-after``...).
    """

    def __init__(
        self,
        *,
        needed: float,
        left: float,
        max_wait: float,
        reopens_at: float,
        remaining: int | None,
        why: str,
    ) -> None:
        super().__init__(f"waiting {needed:.1f} s more ({why}) would pass max_wait {max_wait:g} s")
        self.needed = needed
        self.left = left
        self.max_wait = max_wait
        self.reopens_at = reopens_at
        self.remaining = remaining
        self.why = why


class WaitBudget:
    """The waiting allowance of one statement, shared by its worker threads."""

    def __init__(self, max_wait: float = DEFAULT_MAX_WAIT) -> None:
        self.max_wait = max_wait
        self._spent = 0.0
        self._covered_until = 0.0
        self._lock = threading.Lock()

    @property
    def spent(self) -> float:
        """Seconds of the budget used so far."""
        with self._lock:
            return self._spent

    def claim(self, seconds: float, *, why: str, remaining: int | None = None) -> None:
        """Reserve `seconds` of waiting starting now, or refuse if they would pass the bound.

        Raises:
            WaitTooLongError: the wait would take the statement past `max_wait`.
        """
        if seconds <= 0:
            return
        with self._lock:
            now = time.monotonic()
            end = now + seconds
            new = end - max(now, self._covered_until)
            if new <= 0:
                return
            if self._spent + new > self.max_wait:
                raise WaitTooLongError(
                    needed=seconds,
                    left=max(0.0, self.max_wait - self._spent),
                    max_wait=self.max_wait,
                    reopens_at=time.time() + seconds,
                    remaining=remaining,
                    why=why,
                )
            self._spent += new
            self._covered_until = end


#: A budget without a bound, for callers outside a statement.
def unbounded() -> WaitBudget:
    """A budget that never refuses a wait."""
    return WaitBudget(float("inf"))
