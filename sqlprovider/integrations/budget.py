"""Whether a sync schedule fits the API budget, from the project's one estimator.

Before `sync --every` starts, each source's SQL is estimated (`Connection.estimate`, the same
numbers `EXPLAIN API` shows) and the interval is refused when the requests per hour it implies
exceed a share of the hourly budget, or when one run could not finish within the interval under
the rate limits. The message carries the numbers: "1,040 requests every 5 min = 12,480/h, over
2,500/h (50% of 5,000/h)". Imports `dbapi` and `errors`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlprovider.dbapi import Connection, Estimate
from sqlprovider.errors import InterfaceError
from sqlprovider.integrations.layout import Source

#: The share of the hourly budget a schedule may use by default: the rest is left for people
#: and other tools using the same token.
DEFAULT_SHARE = 0.5


def estimate_sources(connection: Connection, sources: Sequence[Source]) -> Estimate:
    """The requests one run over `sources` makes (a few list calls are sent to learn keys)."""
    total = None
    for source in sources:
        part = connection.estimate(source.sql)
        total = part if total is None else total.merged(part)
    if total is None:
        raise InterfaceError("nothing to estimate: no tables or queries")
    return total


def check_interval(estimate: Estimate, interval: float, share: float = DEFAULT_SHARE) -> str:
    """A one-line summary of what the schedule spends, if it fits.

    Raises:
        InterfaceError: the schedule needs more than `share` of the hourly budget, or one run
            takes longer under the rate limits than the interval.
    """
    if not 0 < share <= 1:
        raise InterfaceError(f"the budget share must be above 0 and at most 1, got {share}")
    requests = estimate.requests
    per_hour = requests * 3600.0 / interval
    budget = estimate.hourly_budget
    allowed = share * budget
    about = "about " if estimate.is_estimate else ""
    line = f"{about}{requests:,} requests every {describe_interval(interval)} = {per_hour:,.0f}/h"
    if per_hour > allowed:
        raise InterfaceError(
            f"{line}, over {allowed:,.0f}/h ({share:.0%} of {budget:,}/h); choose a longer "
            f"--every (at least {describe_interval(_whole_minutes(requests * 3600.0 / allowed))}), "
            "fewer "
            "tables, or a larger --budget-share"
        )
    if estimate.seconds > interval:
        raise InterfaceError(
            f"{line}: one run takes at least {estimate.seconds:,.0f} s under the rate limits, "
            f"longer than the interval; choose a longer --every"
        )
    return f"{line}, within {allowed:,.0f}/h ({share:.0%} of {budget:,}/h)"


def describe_interval(seconds: float) -> str:
    """``300`` -> ``5 min``; ``5400`` -> ``1.5 h``; ``90`` -> ``90 s``."""
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 6 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:.0f} s"


def _whole_minutes(seconds: float) -> float:
    return float(math.ceil(seconds / 60.0) * 60)
