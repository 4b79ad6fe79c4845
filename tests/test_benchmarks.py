"""The benchmark scripts still fit the code they measure (a small size, no timing judged).

A benchmark is run by hand, so a change to what it measures (a new column, a renamed
function) can break it unseen until the next full run; this runs the quick parts at a small
size and checks their own consistency counts, never their times.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def test_the_sync_write_path_benchmark_matches_the_synced_layout() -> None:
    import sync_rows

    try:
        result = sync_rows.write_path(500)
    finally:
        sys.modules.pop("sync_rows", None)
    # One version per row, then one per changed and one per added row (1% each).
    assert result["history_versions"] == result["expected_versions"] == 510


def test_the_cached_rows_benchmark_reads_only_the_cache_and_keeps_every_row() -> None:
    import cached_rows

    try:
        result = cached_rows._one_size(400, 1, lambda _line: None)
    finally:
        sys.modules.pop("cached_rows", None)
    assert result["requests_after_warmup"] == 0
    assert result["cache_hits"] == 2  # two pages of 200
    assert result["memo_rows"] == result["rows"] == 400
