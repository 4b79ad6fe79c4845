"""Figure (d): rows per second and peak memory when every page comes from the response cache.

After one warm-up scan (cache_ttl large), `SELECT * FROM droplet_backup_policies` makes no
request at all, so its speed is the engine's own. The warm-up built the rows of each page the
cache keeps and kept them (`engine/rows_memo.py`), so a cached scan parses and checks each page,
reuses its rows, hands them to SQLite and reads them back through the DB-API cursor; one scan
with the memo emptied shows what building them costs. The floor
they are compared with does the least any Python code could do with the same bytes: `json.loads`
of the same page bodies and building the same 10-value tuples in a plain loop. Memory is the
tracemalloc peak during a later scan (Python allocations only; SQLite's own are not traced), at
two sizes: streaming means the peak does not grow with the number of rows; what the memo keeps
is reported beside it.
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import apsw
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


class _Rows:
    """A minimal apsw virtual table over precomputed rows: the cost of the vtable protocol."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def Create(self, *args: Any) -> tuple[str, _Rows]:  # noqa: N802 - apsw protocol
        return "CREATE TABLE x(" + ",".join(f"c{i}" for i in range(len(self.rows[0]))) + ")", self

    Connect = Create

    def BestIndex(self, *args: Any) -> None:  # noqa: N802
        return None

    def Open(self) -> _RowsCursor:  # noqa: N802
        return _RowsCursor(self.rows)

    def Disconnect(self) -> None:  # noqa: N802
        pass

    Destroy = Disconnect


class _RowsCursor:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows, self.i, self.row = rows, 0, rows[0]

    def Filter(self, *args: Any) -> None:  # noqa: N802
        self.i, self.row = 0, self.rows[0]

    def Eof(self) -> bool:  # noqa: N802
        return self.i >= len(self.rows)

    def Next(self) -> None:  # noqa: N802
        self.i += 1
        if self.i < len(self.rows):
            self.row = self.rows[self.i]

    def Rowid(self) -> int:  # noqa: N802
        return self.i

    def Column(self, number: int) -> Any:  # noqa: N802
        return self.row[number]

    def Close(self) -> None:  # noqa: N802
        pass


def protocol_seconds(rows: list[tuple[Any, ...]], repeats: int) -> float:
    """Median time to read `rows` back through the least possible apsw virtual table."""
    db = apsw.Connection(":memory:")
    db.create_module("rows", _Rows(rows))  # type: ignore[arg-type]
    db.execute("CREATE VIRTUAL TABLE t USING rows()")
    samples = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        for _row in db.execute("SELECT * FROM t"):
            pass
        samples.append(time.perf_counter() - started)
    db.close()
    return statistics.median(samples)


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


def _building_seconds(con: Any) -> float:
    """A cached scan that finds no rows kept: it parses, builds (and keeps) every row."""
    con.session.rows_memo.clear()
    return run_sql(con, SQL).seconds


def _kept_bytes(con: Any) -> tuple[int, int]:
    """(bytes, rows) the first cached scan keeps: traced over a scan after emptying the memo."""
    memo = con.session.rows_memo
    memo.clear()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        run_sql(con, SQL)
        kept = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    return kept, len(memo)


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
            building = _building_seconds(con)
            memo_bytes, memo_rows = _kept_bytes(con)
            kept = run_sql(con, SQL, keep=True).result or []
        finally:
            con.close()
        bodies = page_bodies(sb)
    floor_seconds, _ = median_of(repeats, lambda: _timed(plain_rows, bodies))
    protocol = protocol_seconds(kept, repeats)
    del kept
    rows = runs[-1].rows
    progress(f"d: {rows} rows in {seconds:.3f} s (floor {floor_seconds:.3f} s), peak {peak} B")
    return {
        "droplets": droplets,
        "build_seconds": round(build, 2),
        "warmup_seconds": round(warm.seconds, 2),
        "rows": rows,
        "seconds": seconds,
        "samples": [round(s, 3) for s in samples],
        "building_seconds": building,
        "memo_bytes": memo_bytes,
        "memo_rows": memo_rows,
        "requests_after_warmup": requests_made,
        "cache_hits": hits,
        "floor_seconds": floor_seconds,
        "vtable_protocol_seconds": protocol,
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
            ">= 0.6x, 0 requests",
            rate / floor_rate >= 0.6 and large["requests_after_warmup"] == 0,
            large,
        ),
        Figure(
            "d.breakdown",
            "cached scan building its rows, and reusing them: vs floor + bare apsw vtable",
            f"building {large['building_seconds']:.2f} s, reusing {large['seconds']:.2f} s vs "
            f"{large['floor_seconds']:.2f} s + {large['vtable_protocol_seconds']:.2f} s; "
            f"{large['memo_rows']:,} rows kept in {large['memo_bytes'] / 2**20:.1f} MiB "
            f"(the cached bodies: {large['body_bytes'] / 2**20:.1f} MiB)",
            "informative",
            None,
            {},
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
