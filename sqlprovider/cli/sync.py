"""`sqlprovider sync`: keep a SQLite file current with the API, with history, for BI tools.

    sqlprovider sync --into FILE.db [--table TABLE ...] [--query NAME=SQL ...]
                     [--every 15m [--runs N]] [--metadata FILE | --no-metadata]
                     [--sandbox | --token ... --api-url ...]

Without --table or --query, every list table and the keyed tables reachable from them are synced
(backups of every Droplet, of every cluster that has them). Each run writes in one transaction,
keeps `<table>_history` (valid_from/valid_to) for rows that changed and logs itself in
`sqlprovider_syncs`; a failed run leaves the previous data. With --every, runs repeat at that
interval (15m, 1h, 90s) until interrupted or --runs have been made; first the runs are
estimated (as `EXPLAIN API` does) and an interval whose requests per hour exceed --budget-share
of the hourly budget is refused with the numbers. Requests are paced under the rate limits.
A Datasette metadata file (table and column descriptions, canned queries) is written beside the
database unless --no-metadata: `datasette FILE.db -m FILE.metadata.json`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from sqlprovider.cli.export import parse_query
from sqlprovider.cli.options import add_connection_arguments, open_connection
from sqlprovider.errors import Error, InterfaceError
from sqlprovider.integrations.sync import SyncReport, plan_sources, sync

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def register(commands: Any) -> None:
    """Add `sync` to the subcommands of `sqlprovider`."""
    parser = commands.add_parser(
        "sync",
        help="keep a SQLite file current with the API, with history",
        description=(
            "Keep a SQLite file current with the API: typed tables, <table>_history for rows "
            "that changed, and a log of runs in sqlprovider_syncs, each run in one transaction."
        ),
    )
    parser.add_argument(
        "--into", required=True, help="the SQLite file to keep (created if missing)"
    )
    parser.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="TABLE",
        help="an API table to sync, e.g. digitalocean.compute.droplets (repeatable; default: "
        "every list table and the keyed tables they reach)",
    )
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="NAME=SQL",
        help="also keep the result of SQL as table NAME (repeatable)",
    )
    parser.add_argument(
        "--every", metavar="INTERVAL", help="repeat at this interval: 90s, 15m, 1h (default: once)"
    )
    parser.add_argument(
        "--budget-share",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="with --every, the most of the hourly API budget the schedule may use, 0 to 1 "
        "(default 0.5); a longer interval is asked for when the estimate is over it",
    )
    parser.add_argument(
        "--runs", type=int, metavar="N", help="with --every, stop after N runs (default: never)"
    )
    metadata = parser.add_mutually_exclusive_group()
    metadata.add_argument(
        "--metadata",
        metavar="FILE",
        help="where to write Datasette's metadata (default: FILE.metadata.json beside --into)",
    )
    metadata.add_argument(
        "--no-metadata", action="store_true", help="do not write the Datasette metadata file"
    )
    add_connection_arguments(parser)
    parser.set_defaults(run=run_sync)


def parse_interval(text: str) -> float:
    """Seconds in ``90s``, ``15m``, ``1h``, ``1d`` or a bare number of seconds.

    Raises:
        InterfaceError: anything else, or an interval under one second.
    """
    cleaned = text.strip().lower()
    unit = _UNITS.get(cleaned[-1:])
    number = cleaned[:-1] if unit is not None else cleaned
    try:
        seconds = float(number) * (unit or 1.0)
    except ValueError:
        raise InterfaceError(
            f"--every takes an interval such as 90s, 15m or 1h, got {text!r}"
        ) from None
    if not seconds >= 1.0:
        raise InterfaceError(f"--every must be at least one second, got {text!r}")
    return seconds


def run_sync(args: argparse.Namespace) -> int:
    """Run one sync, or one every --every, printing what each changed."""
    queries = [parse_query(text) for text in args.query]
    interval = parse_interval(args.every) if args.every else None
    if args.runs is not None and (interval is None or args.runs < 1):
        raise InterfaceError("--runs needs --every and at least 1")
    with open_connection(args) as connection:
        sources = plan_sources(connection, args.table, queries)
        if interval is None:
            _print(sync(connection, args.into, tables=args.table, queries=queries))
            _describe(connection, args, sources)
            return 0
        from sqlprovider.integrations.budget import check_interval, estimate_sources

        estimate = estimate_sources(connection, sources)
        sys.stderr.write(check_interval(estimate, interval, args.budget_share) + "\n")
        _describe(connection, args, sources)
        return _repeat(connection, args, queries, interval)


def _describe(connection: Any, args: argparse.Namespace, sources: Any) -> None:
    """Write the Datasette metadata file (unless --no-metadata) and say how to open it."""
    if args.no_metadata:
        return
    from sqlprovider.integrations.datasette import write_metadata

    target = Path(args.metadata) if args.metadata else _default_metadata(args.into)
    write_metadata(connection, sources, args.into, target)
    sys.stderr.write(f"open it with: datasette {args.into} -m {target}\n")


def _repeat(connection: Any, args: argparse.Namespace, queries: Any, interval: float) -> int:
    """Run every `interval` seconds, measured from each run's start; a failed run is logged in
    the file and on stderr, and the next one is tried on schedule."""
    made, status = 0, 0
    next_start = time.monotonic()
    while args.runs is None or made < args.runs:
        time.sleep(max(0.0, next_start - time.monotonic()))
        next_start = time.monotonic() + interval
        try:
            _print(sync(connection, args.into, tables=args.table, queries=queries))
            status = 0
        except Error as exc:
            sys.stderr.write(f"error: {exc} (logged in sqlprovider_syncs; next run as planned)\n")
            status = 1
        made += 1
    return status


def _print(report: SyncReport) -> None:
    for change in report.changes:
        sys.stdout.write(
            f"{change.table}: {change.rows} rows (+{change.added} ~{change.changed} "
            f"-{change.removed})\n"
        )
    sys.stdout.write(
        f"synced at {report.started_at}: {report.requests} requests, "
        f"{report.duration_seconds:.1f}s\n"
    )


def _default_metadata(database: str) -> Path:
    path = Path(database)
    return path.with_name(path.stem + ".metadata.json")
