"""How many requests a statement will make, per endpoint, before it is run: the one estimator.

`EXPLAIN API <sql>`, `sqlprovider query --estimate` and `sync --every` all use it. A statement is
estimated by running it with an `Estimate` attached: the fetcher then sends only the cheap list
calls (the first page of each list, and every page of a list whose values a join needs as keys)
and counts the rest without sending them: the later pages of other lists (from the first page's
`meta.total`: exact unless the list changes) and the keyed calls (one per distinct key, one page
each: an estimate, since a key with more than a page of records takes more). Keyed tables answer
no rows while estimating, so a keyed table whose rows feed yet another keyed table is counted
low; such parts are flagged as estimates. Time is what the calls take under the rate-limit
windows alone (network time comes on top). Imports `spec` only.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

from sqlprovider.spec.record import Record

#: What a skipped call's future holds instead of a response body.
SKIPPED = object()
#: DigitalOcean's budget per token per hour, used when the client keeps no hourly window.
HOURLY_BUDGET = 5000

MADE = "sent while estimating"
FROM_TOTAL = "later pages, from meta.total"
PER_KEY = "estimate: one call per key, one page each"
NO_TOTAL = "estimate: the list gives no total, at least one more page"


class EndpointCount(Record):
    """The requests one endpoint gets for one reason."""

    endpoint: str
    requests: int
    basis: str

    @property
    def is_estimate(self) -> bool:
        """Whether the count is a guess (keyed calls, lists without a total)."""
        return self.basis.startswith("estimate")


class Estimate(Record):
    """Requests per endpoint, the time they take under the rate limits, the budget share."""

    counts: tuple[EndpointCount, ...]
    limits: tuple[tuple[int, float], ...]

    @property
    def requests(self) -> int:
        """All requests the statement makes (including those sent while estimating)."""
        return sum(c.requests for c in self.counts)

    @property
    def sent(self) -> int:
        """Requests the estimate itself sent."""
        return sum(c.requests for c in self.counts if c.basis == MADE)

    @property
    def is_estimate(self) -> bool:
        """Whether any part is a guess rather than a count."""
        return any(c.is_estimate for c in self.counts)

    @property
    def hourly_budget(self) -> int:
        """Requests allowed per hour: the client's hourly window, else DigitalOcean's 5,000."""
        hourly = [limit for limit, seconds in self.limits if seconds == 3600.0]
        return min(hourly) if hourly else HOURLY_BUDGET

    def seconds_for(self, requests: int) -> float:
        """The least time `requests` take under the windows, starting from empty windows."""
        return paced_seconds(requests, self.limits)

    @property
    def seconds(self) -> float:
        """The least time the statement's requests take under the rate limits."""
        return self.seconds_for(self.requests)

    @property
    def budget_share(self) -> float:
        """The statement's requests as a share of the hourly budget (1.0 = all of it)."""
        return self.requests / self.hourly_budget

    def merged(self, other: Estimate) -> Estimate:
        """This estimate and `other` together (one sync reads several statements)."""
        return Estimate(combine([*self.counts, *other.counts]), self.limits)


def paced_seconds(requests: int, limits: Sequence[tuple[int, float]]) -> float:
    """The least seconds `requests` take when each (limit, seconds) window may hold `limit`."""
    if requests <= 0:
        return 0.0
    return max((math.ceil(requests / limit) - 1) * seconds for limit, seconds in limits or [(1, 0)])


def combine(counts: Sequence[EndpointCount]) -> tuple[EndpointCount, ...]:
    """Sum counts of the same endpoint and basis, keeping first-seen order."""
    totals: dict[tuple[str, str], int] = {}
    for count in counts:
        totals[(count.endpoint, count.basis)] = (
            totals.get((count.endpoint, count.basis), 0) + count.requests
        )
    return tuple(EndpointCount(e, n, b) for (e, b), n in totals.items())


class Collector:
    """Counts a statement's calls while it runs in estimate mode (thread-safe)."""

    def __init__(self) -> None:
        self._counts: list[EndpointCount] = []
        self._lock = threading.Lock()

    def count(self, endpoint: str, requests: int, basis: str) -> None:
        """Record `requests` to `endpoint` for `basis`."""
        if requests > 0:
            with self._lock:
                self._counts.append(EndpointCount(endpoint, requests, basis))

    def result(self, limits: tuple[tuple[int, float], ...]) -> Estimate:
        """Everything counted so far."""
        with self._lock:
            return Estimate(combine(self._counts), limits)


#: The columns `EXPLAIN API` answers with.
EXPLAIN_COLUMNS = ("endpoint", "requests", "estimated", "basis", "seconds", "budget_share")


def explain_rows(estimate: Estimate) -> list[tuple[str, int, int, str, float, float]]:
    """One row per endpoint and basis, then a ``total`` row with time and budget share."""
    budget = estimate.hourly_budget
    rows = [
        (
            c.endpoint,
            c.requests,
            int(c.is_estimate),
            c.basis,
            round(estimate.seconds_for(c.requests), 1),
            round(c.requests / budget, 4),
        )
        for c in estimate.counts
    ]
    windows = ", ".join(f"{limit:,}/{_period(seconds)}" for limit, seconds in estimate.limits)
    summary = (
        f"{estimate.sent:,} sent while estimating; at least {estimate.seconds:,.0f} s under "
        f"{windows or 'no rate limit'}; {estimate.budget_share:.1%} of {budget:,}/h"
    )
    rows.append(
        (
            "total",
            estimate.requests,
            int(estimate.is_estimate),
            summary,
            round(estimate.seconds, 1),
            round(estimate.budget_share, 4),
        )
    )
    return rows


def _period(seconds: float) -> str:
    for size, name in ((3600.0, "h"), (60.0, "min")):
        if seconds == size:
            return name
    return f"{seconds:g} s"
