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
