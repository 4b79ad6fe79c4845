"""Benchmark: rows per second `sync` writes into a SQLite file, for 100,000 rows.

Two measurements, each on a fresh file in WAL mode:

1. The write path alone (`integrations.history.apply`, one transaction, as `sync` runs it) with
   100,000 Droplet-shaped rows: a first sync (every row added: the table and one history
   version per row), a second of the same rows (compared, no history written), and a third
   with 1% of the rows changed, 1% removed and 1% added.
2. The whole `sync()` of `digitalocean.compute.droplets` from a sandbox (its own process)
   holding 100,000 Droplets (no latency, no rate limit): API pages, rows, diff and write
   together, twice, checking that the second run makes the same requests and writes no history.

Writes the figures between the `sync` markers of docs/performance.md (the rest of the page
belongs to `benchmarks/run.py`, which keeps this section when it rewrites the page).

    python benchmarks/sync_rows.py [--rows 100000] [--no-docs]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import write_section

import sqlprovider
from sqlprovider.integrations.history import apply, history_name
from sqlprovider.integrations.layout import resource_source
from sqlprovider.integrations.sync import sync

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- sync: begin -->", "<!-- sync: end -->"
UNLIMITED_SANDBOX = {"per_minute": 10**9, "per_hour": 10**10}
UNLIMITED_PACING = ((10**9, 60.0),)


def _rows(count: int, seed: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        rows.append(
            (
                "default",  # the account column leads the synced table's key
                300_000_000 + index,
                f"web-{index}",
                rng.choice(["active", "off", "new"]),
                rng.choice(["nyc3", "ams3", "fra1", "sgp1"]),
                "s-1vcpu-1gb",
                1024,
                1,
                25,
                0,
                "2026-01-01T00:00:00Z",
                "ubuntu-24-04-x64",
                json.dumps(["backups", "ipv6"]),
                json.dumps([index * 3, index * 3 + 1]),
                "[]",
                json.dumps(["web"]),
                "5a4981aa-9653-4bd1-bef5-d6bff52042e4",
                None,
                None,
            )
        )
    return rows


def _timed_apply(path: Path, source: Any, rows: list[tuple[Any, ...]], stamp: str) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    apply(db, source, rows, stamp)
    db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def write_path(count: int) -> dict[str, Any]:
    """Figure 1: the write path alone."""
    with sqlprovider.connect(token="unused") as con:
        provider = con.session.provider
        source = resource_source(provider, provider.resource("digitalocean.compute.droplets"))
    rows = _rows(count, 1)
    assert len(rows[0]) == len(source.columns), "the synthetic rows must match the layout"
    changed = list(rows)
    rng = random.Random(2)
    one_percent = count // 100
    picked = rng.sample(range(count), 2 * one_percent)  # disjoint: changed, then removed
    for index in picked[:one_percent]:
        changed[index] = (*changed[index][:3], "archive", *changed[index][4:])
    removed = set(picked[one_percent:])
    changed = [row for i, row in enumerate(changed) if i not in removed]
    changed += _rows(one_percent, 3)
    changed[-one_percent:] = [
        (row[0], 900_000_000 + i, *row[2:]) for i, row in enumerate(changed[-one_percent:])
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        first = _timed_apply(path, source, rows, "2026-11-01T00:00:00.000Z")
        second = _timed_apply(path, source, rows, "2026-11-01T00:15:00.000Z")
        third = _timed_apply(path, source, changed, "2026-11-01T00:30:00.000Z")
        db = sqlite3.connect(path)
        versions = db.execute(f"SELECT count(*) FROM {history_name(source.table)}").fetchone()[0]
        size = path.stat().st_size + Path(str(path) + "-wal").stat().st_size
        db.close()
    return {
        "rows": count,
        "first_seconds": round(first, 3),
        "unchanged_seconds": round(second, 3),
        "three_percent_seconds": round(third, 3),
        "history_versions": versions,
        "expected_versions": count + 2 * one_percent,
        "file_mib": round(size / 2**20, 1),
    }


def end_to_end(count: int) -> dict[str, Any]:
    """Figure 2: the whole sync of droplets from a sandbox in its own process (so its CPU time
    does not share this process's interpreter lock)."""
    built = time.perf_counter()
    command = [sys.executable, "-m", "sqlprovider.cli.main", "sandbox", "serve"]
    server = subprocess.Popen(
        [
            *command,
            "--droplets",
            str(count),
            "--per-minute",
            "1000000000",
            "--per-hour",
            "10000000000",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        served = json.loads(server.stdout.readline())
        build_seconds = time.perf_counter() - built
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "estate.db"
            con = sqlprovider.connect(
                token=served["token"], api_url=served["url"], rate_limits=UNLIMITED_PACING
            )
            try:
                runs = []
                for _ in range(2):
                    started = time.perf_counter()
                    report = sync(con, path, tables=["digitalocean.compute.droplets"])
                    runs.append((time.perf_counter() - started, report))
            finally:
                con.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    (first, report1), (second, report2) = runs
    return {
        "rows": report1.changes[0].rows,
        "sandbox_build_seconds": round(build_seconds, 1),
        "first_seconds": round(first, 3),
        "second_seconds": round(second, 3),
        "requests": [report1.requests, report2.requests],
        "second_history_rows": report2.history_rows,
    }


def markdown(write: dict[str, Any], whole: dict[str, Any]) -> str:
    """The section of docs/performance.md."""
    n = write["rows"]

    def rate(rows: int, seconds: float) -> str:
        return f"{rows / seconds:,.0f} rows/s ({seconds:.2f} s)"

    lines = [
        START,
        "## Sync: rows written per second",
        "",
        f"Measured by `python benchmarks/sync_rows.py` (run of "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"Python {platform.python_version()}; the rest of this page is `benchmarks/run.py`'s). "
        "Each run is one transaction on a WAL-mode file.",
        "",
        "| what | rows/s |",
        "|---|---|",
        f"| write path, first sync of {n:,} Droplet rows (table + one history version each) "
        f"| {rate(n, write['first_seconds'])} |",
        f"| write path, the same {n:,} rows again (compared, no history) "
        f"| {rate(n, write['unchanged_seconds'])} |",
        f"| write path, {n:,} rows with 1% changed, 1% removed, 1% added "
        f"| {rate(n, write['three_percent_seconds'])} |",
        f"| whole `sync()` of {whole['rows']:,} Droplets from a local sandbox, first run "
        f"| {rate(whole['rows'], whole['first_seconds'])} |",
        f"| whole `sync()`, second run of the unchanged estate "
        f"| {rate(whole['rows'], whole['second_seconds'])} |",
        "",
        f"History versions after the three write-path runs: {write['history_versions']:,} "
        f"(expected {write['expected_versions']:,}: one per row, plus one per changed and per "
        f"added row); file with its WAL: {write['file_mib']} MiB. The whole sync made "
        f"{whole['requests'][0]:,} and then {whole['requests'][1]:,} requests, and the second "
        f"run wrote {whole['second_history_rows']} history rows. The sandbox (its own process "
        "on the same machine, no latency, no rate limit) renders every page, so the whole-sync "
        "figures are bounded by it as much as by sync; the machine is shared with other jobs.",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    write = write_path(args.rows)
    print(json.dumps(write), file=sys.stderr)
    whole = end_to_end(args.rows)
    print(json.dumps(whole), file=sys.stderr)
    section = markdown(write, whole)
    print(section)
    ok = (
        write["history_versions"] == write["expected_versions"]
        and whole["requests"][0] == whole["requests"][1]
        and whole["second_history_rows"] == 0
    )
    if not args.no_docs:
        write_section(DOC, START, END, section)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
