"""Figure (c): a fan-out larger than the rate limit, on a scaled-down clock.

The sandbox allows L requests per window of W seconds (60 per 6 s here: DigitalOcean's 250 per
60 s, shrunk so the run takes seconds) and the connection is told the same limits. N requests
then cannot finish before floor((N - 1) / L) x W seconds: the (N-1)th request after the first
must wait for that many windows to slide. Pacing is right when no request is refused (0 x 429,
0 failures) and the total stays close to that bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from common import LATENCY_MS, Figure, connect, run_sql

from sqlprovider.errors import Error
from sqlprovider.sandbox import Sandbox

PER_WINDOW = 60
WINDOW_SECONDS = 6.0
D = "digitalocean.compute"
SQL = f"SELECT b.* FROM {D}.droplet_backups b WHERE b.droplet_id IN (SELECT id FROM {D}.droplets)"


def measure(droplets: int, progress: Callable[[str], None]) -> list[Figure]:
    """Run one paced fan-out of `droplets` + 2 requests and report refusals and time."""
    with Sandbox(
        seed=31,
        droplets=droplets,
        clusters=1,
        latency_ms=LATENCY_MS,
        per_minute=PER_WINDOW,
        per_hour=1_000_000,
        minute_seconds=WINDOW_SECONDS,
    ) as sb:
        n_gpu = len(sb.account.droplet_ids(gpu=True))
        n_regular = len(sb.account.droplet_ids(gpu=False))
        expected = math.ceil(n_regular / 200) + math.ceil(n_gpu / 200) + droplets
        con = connect(sb, rate_limits=((PER_WINDOW, WINDOW_SECONDS), (5000, 3600.0)))
        failure = ""
        try:
            run = run_sql(con, SQL)
            seconds, stats, rows = run.seconds, run.stats, run.rows
        except Error as exc:
            failure = f"{type(exc).__name__}: {exc}"
            seconds, stats, rows = float("nan"), con.last_stats(), 0
        finally:
            con.close()
        statuses = [r.status for r in sb.requests]
    refused = statuses.count(429)
    bound = math.floor((expected - 1) / PER_WINDOW) * WINDOW_SECONDS
    ratio = seconds / bound if bound else float("nan")
    progress(f"c: {len(statuses)} requests, {refused} x 429, {seconds:.2f} s (bound {bound:.1f} s)")
    details = {
        "requests_needed": expected,
        "sandbox_received": len(statuses),
        "stats": stats,
        "rows": rows,
        "failure": failure,
        "seconds": seconds,
        "bound_seconds": bound,
        "limit": [PER_WINDOW, WINDOW_SECONDS],
        "refused_request_numbers": [n for n, s in enumerate(statuses, 1) if s == 429],
    }
    return [
        Figure(
            "c.failures",
            f"paced fan-out, {expected} requests at {PER_WINDOW}/{WINDOW_SECONDS:g} s: failures",
            "1 (" + failure[:60] + ")" if failure else "0",
            "0",
            not failure,
            details,
        ),
        Figure(
            "c.429s",
            "429 answers (stats / sandbox log)",
            f"{int(stats.get('rate_limited', 0))} / {refused}",
            "0",
            refused == 0 and not stats.get("rate_limited"),
            {},
        ),
        Figure(
            "c.time",
            "paced fan-out time vs the limit's bound",
            f"{seconds:.2f} s / {bound:.1f} s = {ratio:.2f}x",
            "<= 1.15x",
            ratio <= 1.15,
            {},
        ),
    ]
