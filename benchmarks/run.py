"""Run the performance figures (a) to (i) against the sandbox and publish them.

    pip install -e '.[bench]'          # pydo, the baseline of figure (b)
    python benchmarks/run.py           # full sizes; rewrites docs/performance.md
    python benchmarks/run.py --quick   # smaller sizes, one repeat; docs untouched unless --docs
    python benchmarks/run.py --render  # rewrite docs/performance.md from the last results

Prints a table, writes `benchmarks/results/latest.json` (git-ignored) and, on a full run,
rewrites `docs/performance.md`. Exits 1 when a target is missed, so a regression is visible.
This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accounts  # noqa: E402 - after the path setup above
import cached_rows  # noqa: E402
import cold  # noqa: E402
import fanout  # noqa: E402
import memory  # noqa: E402
import pacing  # noqa: E402
import report  # noqa: E402
import requests_made  # noqa: E402
import startup  # noqa: E402
from common import Figure  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
DOC = ROOT / "docs" / "performance.md"


_SECTION = re.compile(r"<!-- ([\w -]+): begin -->.*?<!-- \1: end -->", re.S)


def write_doc(text: str) -> None:
    """Write docs/performance.md, keeping the marked sections other scripts own.

    `benchmarks/writes.py` and `benchmarks/accounts.py` each keep a section between
    ``<!-- name: begin -->`` and ``<!-- name: end -->``; a section this report does not write is
    carried over from the current file instead of being lost.
    """
    old = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    mine = {m.group(1) for m in _SECTION.finditer(text)}
    kept = [m.group(0) for m in _SECTION.finditer(old) if m.group(1) not in mine]
    DOC.write_text("\n\n".join([text.rstrip(), *kept]) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the figures, print and save them; 1 if a target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and one repeat")
    parser.add_argument("--docs", action="store_true", help="rewrite the docs even with --quick")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument(
        "--only", default="abcdefghi", help="figures to run, e.g. 'ab' (default: abcdefghi)"
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only rewrite docs/performance.md from benchmarks/results/latest.json",
    )
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(RESULTS.read_text(encoding="utf-8"))
        figures = [Figure(**f) for f in saved["figures"]]
        write_doc(report.markdown(figures, saved["meta"]))
        print(report.text_table(figures))
        return 0
    repeats = 1 if args.quick else 3
    notes: list[str] = []

    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    figures: list[Figure] = []
    started = time.perf_counter()
    if "a" in args.only:
        figures += requests_made.measure(120 if args.quick else 450, progress)
    if "b" in args.only:
        figures += fanout.measure(repeats, progress)
    if "c" in args.only:
        figures += pacing.measure(148, progress)
    if "d" in args.only:
        big = 20_000 if args.quick else 100_000
        if args.quick:
            notes.append(f"(d) ran at {big:,} and {big // 10:,} rows (--quick), not 100,000.")
        figures += cached_rows.measure(big, repeats, progress)
    if "e" in args.only:
        figures += startup.measure(3 if args.quick else 7, progress)
    if "f" in args.only:
        figures += accounts.measure(1 if args.quick else 3, progress)
    if "g" in args.only:
        figures += cold.against_pool(1 if args.quick else 5, progress)
    if "h" in args.only:
        figures += cold.first_statement(1 if args.quick else 5, progress)
    if "i" in args.only:
        figures += memory.measure(progress)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {_cpus()} CPUs",
        "python": platform.python_version(),
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "notes": notes,
    }
    print(report.text_table(figures))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"meta": meta, "figures": [asdict(f) for f in figures]}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"\nwrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    if (not args.quick or args.docs) and not args.no_docs and args.only == "abcdefghi":
        DOC.parent.mkdir(parents=True, exist_ok=True)
        write_doc(report.markdown(figures, meta))
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0 if all(f.met is not False for f in figures) else 1


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
