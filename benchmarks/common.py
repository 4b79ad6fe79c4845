"""Shared pieces of the benchmark figures: connections, a timed statement, a figure record, and
the marked section of a docs page that a script rewrites with its results.

Every figure runs against the in-process sandbox (`sqlprovider.sandbox.Sandbox`), so the
numbers include the sandbox's own CPU time in the same process; with 50 ms of latency per
request that is small next to the round trips, and `benchmarks/sandbox_capacity.py` measures
it separately.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlprovider
from sqlprovider.sandbox import Sandbox

#: Sandbox limits high enough that only figure (c), which is about pacing, ever meets one.
UNLIMITED_SANDBOX: dict[str, Any] = {"per_minute": 10_000_000, "per_hour": 100_000_000}

#: Client pacing windows to match: the default (250/min) would make a repeated run wait for
#: the sliding minute, which is figure (c)'s subject, not that of the others.
UNLIMITED_PACING: tuple[tuple[int, float], ...] = ((10_000_000, 60.0),)

LATENCY_MS = 50.0


@dataclass
class Figure:
    """One line of the report: what was measured, its value, the target and the verdict.

    Attributes:
        key: short id such as ``a.policies``.
        label: what the line measures.
        value: the measured value, already formatted.
        target: the target, in words.
        met: whether the target is met (None: informative, no target).
        details: raw numbers for the JSON file.
    """

    key: str
    label: str
    value: str
    target: str
    met: bool | None
    details: dict[str, Any] = field(default_factory=dict)


def connect(sb: Sandbox, **options: Any) -> sqlprovider.Connection:
    """A connection to `sb` without client-side pacing (unless `rate_limits` is given)."""
    settings: dict[str, Any] = {"rate_limits": UNLIMITED_PACING, "timeout": 30.0}
    settings.update(options)
    return sqlprovider.connect(token=sb.token, api_url=sb.url, **settings)


@dataclass
class Run:
    """The outcome of one statement: row count, the cursor's stats and wall time."""

    rows: int
    stats: dict[str, float]
    seconds: float
    result: list[tuple[Any, ...]] | None = None


def run_sql(con: sqlprovider.Connection, sql: str, *, keep: bool = False) -> Run:
    """Execute `sql`, read every row (kept only when `keep`), and time it end to end."""
    cursor = con.cursor()
    started = time.perf_counter()
    cursor.execute(sql)
    if keep:
        result: list[tuple[Any, ...]] | None = cursor.fetchall()
        count = len(result or [])
    else:
        result = None
        count = sum(1 for _ in cursor)
    seconds = time.perf_counter() - started
    stats = dict(cursor.stats)
    cursor.close()
    return Run(count, stats, seconds, result)


def median_of(repeats: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    """Run `measure` `repeats` times; return the median and every sample."""
    samples = [measure() for _ in range(max(1, repeats))]
    return statistics.median(samples), samples


def pages(count: int, per_page: int = 200) -> int:
    """Requests needed to list `count` items: at least one, even for an empty list."""
    return max(1, -(-count // per_page))


def write_section(doc: Path, begin: str, end: str, section: str) -> None:
    """Put `section` (from its `begin` marker to its `end` marker) where the marked section of
    `doc` stands, or at its end the first time; the rest of the page is kept as it is, so each
    script owns only its own figures."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if begin in text and end in text:
        before, _, rest = text.partition(begin)
        _, _, after = rest.partition(end)
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")
