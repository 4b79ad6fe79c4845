"""`sqlprovider query`: run SQL once and print the last statement's result.

`--estimate` prints what `EXPLAIN API` answers instead: the requests per endpoint the statement
would make, the time they take under the rate limits and their share of the hourly budget.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlprovider.cli.options import add_connection_arguments, open_connection
from sqlprovider.cli.output import FORMATS, render


def register(commands: Any) -> None:
    """Add `query` to the `sqlprovider` subcommands."""
    query = commands.add_parser(
        "query", help="run SQL and print the result", description="Run SQL and print the result."
    )
    query.add_argument("sql", help="one or more SQL statements; the result of the last is printed")
    query.add_argument(
        "--format", "-f", choices=FORMATS, default="table", help="output format (default table)"
    )
    query.add_argument("--output", "-o", help="write the result to this file instead of stdout")
    query.add_argument(
        "--stats", action="store_true", help="print the API requests the statement made to stderr"
    )
    query.add_argument(
        "--estimate",
        action="store_true",
        help="do not run the SQL: show the requests it would make per endpoint, their time "
        "under the rate limits and share of the hourly budget (as EXPLAIN API does)",
    )
    add_connection_arguments(query)
    query.set_defaults(run=run_query)


def run_query(args: argparse.Namespace) -> int:
    """Run the SQL and print the last result; errors propagate to `main`."""
    with open_connection(args) as connection:
        cursor = connection.cursor()
        cursor.execute(("EXPLAIN API " if args.estimate else "") + args.sql)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchall() if columns else []
        text = render(args.format, columns, rows) if columns else ""
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            sys.stdout.write(text)
        for warning in cursor.warnings:
            sys.stderr.write(f"warning: {warning}\n")
        if args.stats:
            sys.stderr.write("stats: " + json.dumps(cursor.stats) + "\n")
    return 0
