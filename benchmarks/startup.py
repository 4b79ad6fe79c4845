"""Figure (e): cold start of `sqlprovider query "SELECT 1"` against `python -c "import apsw"`.

Both run as fresh processes of the same interpreter (the console script next to
`sys.executable`, not a shell shim in front of it); the runs alternate, one of each in turn, so
a change in the machine's load moves both, and the medians are compared.
`SELECT 1` touches no table, so this is the cost of importing sqlprovider, loading the spec and
registering the tables: what every CLI call pays before its first request.

The package is compiled to bytecode first, as `pip install` does: with PYTHONDONTWRITEBYTECODE
set (as on this project's machines) an editable install would otherwise recompile every module
on every start, which measures the environment rather than sqlprovider.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import Figure


def _script() -> list[str]:
    beside = Path(sys.executable).parent / "sqlprovider"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sqlprovider")
    return [found] if found else [sys.executable, "-m", "sqlprovider.cli.main"]


def _timed(command: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGITALOCEAN_")}
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def measure(repeats: int, progress: Callable[[str], None]) -> list[Figure]:
    """Median wall time of each command over `repeats` runs (after one unmeasured run)."""
    query = [*_script(), "query", "SELECT 1"]
    baseline = [sys.executable, "-c", "import apsw"]
    package = Path(__file__).resolve().parents[1] / "sqlprovider"
    compileall.compile_dir(str(package), quiet=1)
    _timed(query)
    _timed(baseline)
    pairs = [(_timed(query), _timed(baseline)) for _ in range(max(1, repeats))]
    ours_samples = [q for q, _ in pairs]
    base_samples = [b for _, b in pairs]
    ours, base = statistics.median(ours_samples), statistics.median(base_samples)
    ratio = ours / base
    progress(f"e: query {ours * 1e3:.0f} ms, import apsw {base * 1e3:.0f} ms")
    return [
        Figure(
            "e.cold_start",
            'cold start: `sqlprovider query "SELECT 1"` vs `python -c "import apsw"`',
            f"{ours * 1e3:.0f} ms / {base * 1e3:.0f} ms (the apsw baseline measured in this run; "
            f"the package compiled to bytecode first, as an install does) = {ratio:.2f}x",
            "<= 2.5x",
            ratio <= 2.5,
            {
                "command": query,
                "bytecode": "compileall of the package before the runs",
                "query_samples": [round(s, 4) for s in ours_samples],
                "apsw_samples": [round(s, 4) for s in base_samples],
            },
        )
    ]
