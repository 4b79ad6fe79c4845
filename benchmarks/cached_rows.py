"""Figure (d): rows per second and peak memory when every page comes from the response cache.

After one warm-up scan (cache_ttl large), `SELECT * FROM droplet_backup_policies` makes no
request at all, so its speed is the engine's own: parse each cached page, build each row, hand
it to SQLite, and read it back through the DB-API cursor. The floor it is compared with does
the least any Python code could do with the same bytes: `json.loads` of the same page bodies
and building the same 10-value tuples in a plain loop. Memory is the tracemalloc peak during the
query (Python allocations only; SQLite's own are not traced), at two sizes: streaming means the
peak does not grow with the number of rows.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import requests
from common import UNLIMITED_SANDBOX, Figure, connect, median_of, pages, run_sql

from sqlprovider.sandbox import Sandbox

SQL = "SELECT * FROM digitalocean.compute.droplet_backup_policies"
_SEP = (",", ":")


def page_bodies(sb: Sandbox) -> list[bytes]:
    """Fetch the same pages the engine cached (page, per_page=200) straight from the sandbox."""
    total = len(sb.account.droplet_ids())
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.token}"
    bodies = []
    for page in range(1, pages(total) + 1):
        response = session.get(
            f"{sb.url}/v2/droplets/backups/policies",
            params={"page": page, "per_page": 200},
            timeout=30,
        )
        response.raise_for_status()
        bodies.append(response.content)
    session.close()
    return bodies


def plain_rows(bodies: list[bytes]) -> int:
    """The floor: parse every body and build the rows SELECT * returns, in plain Python."""
    count = 0
    for body in bodies:
        for rec in json.loads(body)["policies"].values():
            policy: dict[str, Any] | None = rec.get("backup_policy")
            window = rec.get("next_backup_window") or {}
            p = policy or {}
            row = (
                rec.get("droplet_id"),
                int(rec.get("backup_enabled")),
                None if policy is None else json.dumps(policy, separators=_SEP),
                p.get("plan"),
                p.get("weekday"),
                p.get("hour"),
                p.get("window_length_hours"),
                p.get("retention_period_days"),
                window.get("start"),
                window.get("end"),
            )
            count += row is not None
    return count


def _peak_bytes(con: Any) -> tuple[int, int]:
    """(peak traced bytes above the start, rows) of one cached scan."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        run = run_sql(con, SQL)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, run.rows


def _one_size(droplets: int, repeats: int, progress: Callable[[str], None]) -> dict[str, Any]:
    started = time.perf_counter()
    sb = Sandbox(seed=41, droplets=droplets, clusters=1, **UNLIMITED_SANDBOX)
    build = time.perf_counter() - started
    with sb:
        con = connect(sb, cache_ttl=86_400.0)
        try:
            warm = run_sql(con, SQL)
            progress(f"d: {droplets} droplets built in {build:.1f} s, warm-up {warm.seconds:.1f} s")
            runs = []

            def once() -> float:
                run = run_sql(con, SQL)
                runs.append(run)
                return run.seconds

            seconds, samples = median_of(repeats, once)
            requests_made = sum(int(r.stats["requests"]) for r in runs)
            hits = runs[-1].stats["cache_hits"]
            peak, peak_rows = _peak_bytes(con)
        finally:
            con.close()
        bodies = page_bodies(sb)
    floor_seconds, _ = median_of(repeats, lambda: _timed(plain_rows, bodies))
    rows = runs[-1].rows
    progress(f"d: {rows} rows in {seconds:.3f} s (floor {floor_seconds:.3f} s), peak {peak} B")
    return {
        "droplets": droplets,
        "build_seconds": round(build, 2),
        "warmup_seconds": round(warm.seconds, 2),
        "rows": rows,
        "seconds": seconds,
        "samples": [round(s, 3) for s in samples],
        "requests_after_warmup": requests_made,
        "cache_hits": hits,
        "floor_seconds": floor_seconds,
        "peak_bytes": peak,
        "peak_rows": peak_rows,
        "body_bytes": sum(len(b) for b in bodies),
    }


def _timed(func: Callable[[list[bytes]], int], bodies: list[bytes]) -> float:
    started = time.perf_counter()
    func(bodies)
    return time.perf_counter() - started


def measure(big: int, repeats: int, progress: Callable[[str], None]) -> list[Figure]:
    """Measure at `big` and `big // 10` Droplets."""
    small = big // 10
    large = _one_size(big, repeats, progress)
    little = _one_size(small, repeats, progress)
    rate = large["rows"] / large["seconds"]
    floor_rate = large["rows"] / large["floor_seconds"]
    growth = large["peak_bytes"] / max(1, little["peak_bytes"])
    return [
        Figure(
            "d.rows_per_second",
            f"{large['rows']:,} cached policy rows: rows/s vs json.loads+tuples floor",
            f"{rate:,.0f} / {floor_rate:,.0f} rows/s = {rate / floor_rate:.2f}x "
            f"({large['requests_after_warmup']} requests)",
            ">= 0.5x, 0 requests",
            rate / floor_rate >= 0.5 and large["requests_after_warmup"] == 0,
            large,
        ),
        Figure(
            "d.peak_memory",
            f"peak traced memory, {little['rows']:,} vs {large['rows']:,} rows",
            f"{little['peak_bytes'] / 2**20:.1f} MiB / {large['peak_bytes'] / 2**20:.1f} MiB "
            f"= {growth:.2f}x",
            "<= 1.3x",
            growth <= 1.3,
            little,
        ),
    ]
