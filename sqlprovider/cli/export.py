"""`sqlprovider export`: snapshot API tables or query results into a plain SQLite file.

    sqlprovider export --db FILE.db [--table digitalocean.compute.droplets ...]
                       [--query NAME=SQL ...] [--sandbox | --token ... --api-url ...]

A `--table` is copied whole under its name with dots as underscores
(`digitalocean_compute_droplets`); tables that need a key (droplet_backups, databases.backups)
take a `--query` instead. Tables of the same name are replaced, all in one transaction, and
`_sqlprovider_exports` records each one. One line per table goes to stdout; while it works, a
progress line goes to stderr when that is a terminal (`--quiet` turns it off), and `--verbose`
logs each API call there.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlprovider.cli.options import add_connection_arguments, open_connection
from sqlprovider.cli.progress import (
    add_output_arguments,
    is_terminal,
    logging_api_calls,
    secrets_of,
    showing_progress,
)
from sqlprovider.errors import InterfaceError
from sqlprovider.integrations.export import export


def register(commands: Any) -> None:
    """Add `export` to the subcommands of `sqlprovider`."""
    parser = commands.add_parser(
        "export",
        help="copy API tables or query results into a SQLite file",
        description=(
            "Copy API tables or query results into a plain SQLite file, replacing tables of the "
            "same name in one transaction; _sqlprovider_exports records what was written."
        ),
    )
    parser.add_argument("--db", required=True, help="the SQLite file to write (created if missing)")
    parser.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="TABLE",
        help="an API table to copy whole, e.g. digitalocean.compute.droplets (repeatable)",
    )
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="NAME=SQL",
        help="write the result of SQL as table NAME (repeatable); needed for keyed tables",
    )
    add_output_arguments(parser)
    add_connection_arguments(parser)
    parser.set_defaults(run=run_export)


def parse_query(text: str) -> tuple[str, str]:
    """Split ``NAME=SQL`` at the first ``=``."""
    name, sep, sql = text.partition("=")
    if not sep or not name.strip() or not sql.strip():
        raise InterfaceError(f"--query takes NAME=SQL, got {text!r}")
    return name.strip(), sql.strip()


def run_export(args: argparse.Namespace) -> int:
    """Run the export and print one line per table written."""
    queries = [parse_query(text) for text in args.query]
    with (
        open_connection(args) as connection,
        logging_api_calls(args.verbose, sys.stderr, secrets_of(connection)),
        showing_progress(
            not args.quiet and is_terminal(sys.stderr), connection.session, sys.stderr
        ),
    ):
        written = export(connection, args.db, tables=args.table, queries=queries)
    for item in written:
        sys.stdout.write(f"{item.table}: {item.row_count} rows from {item.kind} {item.source}\n")
    return 0
