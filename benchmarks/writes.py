"""Write figure: an UPDATE that enables backups on 200 Droplets, paced by the rate limit.

    python benchmarks/writes.py            # run once; rewrites the Writes section of
                                           # docs/performance.md
    python benchmarks/writes.py --no-docs  # print only

The sandbox answers every request after 50 ms and allows 60 requests per 6 s (DigitalOcean's
250 per 60 s, scaled down as in figure (c)); the connection is told the same limits. The
statement reads the policies (one list page of 200; it sets no policy column, so the supported
policies are not looked up), then sends one POST per Droplet: N = 201 requests, which cannot
finish before floor((N - 1) / 60) x 6 s. Targets: exactly 200 POSTs, no 429, time within
1.3x of that bound.
A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import LATENCY_MS, connect, write_section  # noqa: E402 - after the path setup above

from sqlprovider.sandbox import Sandbox  # noqa: E402

PER_WINDOW = 60
WINDOW_SECONDS = 6.0
DROPLETS = 200
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
BEGIN, END = "<!-- writes: begin -->", "<!-- writes: end -->"
SQL = (
    "UPDATE digitalocean.compute.droplet_backup_policies SET backup_enabled = 1 "
    "WHERE NOT backup_enabled"
)


def measure() -> dict[str, float | int | str]:
    """Run the UPDATE once on a fresh sandbox whose 200 Droplets all have backups off."""
    with Sandbox(
        seed=41,
        droplets=DROPLETS,
        clusters=1,
        latency_ms=LATENCY_MS,
        per_minute=PER_WINDOW,
        per_hour=1_000_000,
        minute_seconds=WINDOW_SECONDS,
    ) as sb:
        for droplet_id in sb.account.droplet_ids():
            sb.account.set_policy(droplet_id, None)
        con = connect(
            sb,
            allow_writes=True,
            rate_limits=((PER_WINDOW, WINDOW_SECONDS), (5000, 3600.0)),
        )
        started = time.perf_counter()
        cursor = con.execute(SQL)
        seconds = time.perf_counter() - started
        rowcount = cursor.rowcount
        con.close()
        statuses = [(r.method, r.status) for r in sb.requests]
        actions = sb.actions.count(kind="enable_backups")
    requests = len(statuses)
    posts = sum(1 for method, _ in statuses if method == "POST")
    bound = math.floor((requests - 1) / PER_WINDOW) * WINDOW_SECONDS
    return {
        "seconds": seconds,
        "bound": bound,
        "ratio": seconds / bound if bound else float("nan"),
        "requests": requests,
        "posts": posts,
        "actions": actions,
        "rowcount": rowcount,
        "refused": sum(1 for _, status in statuses if status == 429),
    }


def markdown(result: dict[str, float | int | str]) -> str:
    """The Writes section of docs/performance.md."""
    ok_time = float(result["ratio"]) <= 1.3
    ok_posts = result["posts"] == DROPLETS == result["actions"] == result["rowcount"]
    return "\n".join(
        [
            BEGIN,
            "## Writes: UPDATE on 200 Droplets (benchmarks/writes.py)",
            "",
            f"`{SQL}` on a sandbox of {DROPLETS} Droplets, all with backups off, "
            f"{LATENCY_MS:g} ms per request, {PER_WINDOW} requests per {WINDOW_SECONDS:g} s "
            "(the API's 250 per minute scaled down as in figure (c)), the client told the same.",
            "",
            "| Figure | Value | Target | Met |",
            "|---|---|---|---|",
            f"| time vs the limit's bound | {float(result['seconds']):.2f} s / "
            f"{float(result['bound']):.1f} s = {float(result['ratio']):.2f}x | <= 1.3x | "
            f"{'yes' if ok_time else 'no'} |",
            f"| POSTs sent / actions started / rowcount | {result['posts']} / "
            f"{result['actions']} / {result['rowcount']} | exactly {DROPLETS} | "
            f"{'yes' if ok_posts else 'no'} |",
            "| requests in all (the policy list + POSTs; no policy column is set, so no "
            f"supported-policy lookup) | {result['requests']} | - | - |",
            f"| 429 answers | {result['refused']} | 0 | "
            f"{'yes' if result['refused'] == 0 else 'no'} |",
            "",
            "The POSTs go out in parallel (max_concurrency) through the same pacer as reads, so "
            "the write is paced, not a storm; each POST is sent once (no 429, no lost answer).",
            END,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run, print, and (unless --no-docs) rewrite the Writes section of the docs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    args = parser.parse_args(argv)
    result = measure()
    section = markdown(result)
    print(section)
    if not args.no_docs:
        write_section(DOC, BEGIN, END, section)
    ok = float(result["ratio"]) <= 1.3 and result["posts"] == DROPLETS and result["refused"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
