"""`sqlprovider query`: run SQL and print each statement's result in turn, as sqlite3 does.

    sqlprovider query [options] "SQL"          # one or more statements separated by ;
    sqlprovider query [options] - < file.sql    # SQL from stdin (also when SQL is left out)
    sqlprovider query -p 3164444 "SELECT * FROM droplet_backups WHERE droplet_id = ?"
    sqlprovider query -p id=3164444 "SELECT * FROM droplet_backups WHERE droplet_id = :id"

Each statement that returns rows prints them, in the chosen format, one result after another
(table, csv and markdown results are separated by a blank line; json prints one array per
result, jsonl one object per row). Notices (a key the API does not know, say) go to stderr
as `warning:` lines, and `--stats` prints each statement's API work there too. The first
failing statement stops the run with exit status 1; the results before it have been printed.

`--estimate` prints what `EXPLAIN API` answers for each statement instead of running it: the
requests per endpoint it would make, the time they take under the rate limits and their share
of the hourly budget.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlprovider.cli.options import add_connection_arguments, open_connection
from sqlprovider.cli.output import FORMATS, render
from sqlprovider.cli.progress import (
    add_output_arguments,
    is_terminal,
    logging_api_calls,
    secrets_of,
    showing_progress,
)
from sqlprovider.cli.statements import Parameters, split_statements
from sqlprovider.errors import InterfaceError


def register(commands: Any) -> None:
    """Add `query` to the `sqlprovider` subcommands."""
    query = commands.add_parser(
        "query",
        help="run SQL and print the result",
        description="Run SQL and print the result of each statement in turn.",
    )
    query.add_argument(
        "sql",
        nargs="?",
        default="-",
        help="one or more SQL statements separated by ; (each result is printed in turn); "
        "'-' or nothing reads the SQL from stdin",
    )
    query.add_argument(
        "--format", "-f", choices=FORMATS, default="table", help="output format (default table)"
    )
    query.add_argument(
        "--output", "-o", metavar="FILE", help="write the results to FILE instead of stdout"
    )
    query.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="VALUE|NAME=VALUE",
        help="bind a value: VALUE to the next ? (repeat in order), NAME=VALUE to :NAME; numbers "
        "bind as numbers, quote ('007') to bind text",
    )
    query.add_argument(
        "--stats", action="store_true", help="print each statement's API work to stderr"
    )
    query.add_argument(
        "--estimate",
        action="store_true",
        help="do not run the SQL: show the requests it would make per endpoint, their time "
        "under the rate limits and share of the hourly budget (as EXPLAIN API does)",
    )
    add_output_arguments(query)
    add_connection_arguments(query)
    query.set_defaults(run=run_query)


def run_query(args: argparse.Namespace) -> int:
    """Run the statements and print each result; errors propagate to `main`.

    Raises:
        InterfaceError: no SQL, SQL and the token both on stdin, a bad --param, an --output
            folder that does not exist. Nothing has been sent to the API then.
    """
    script = read_sql(args)
    statements = split_statements(script)
    if not statements:
        raise InterfaceError("no SQL to run: give it as an argument, or on stdin with '-'")
    bindings = Parameters.parse(args.param).bind(statements)
    output = check_output(args.output)
    rows_seen = [0]
    with open_connection(args) as connection:
        stream: TextIO = sys.stdout if output is None else _open(output)
        try:
            with (
                logging_api_calls(args.verbose, sys.stderr, secrets_of(connection)),
                showing_progress(
                    not args.quiet and is_terminal(sys.stderr),
                    connection.session,
                    sys.stderr,
                    rows=lambda: rows_seen[0],
                ),
            ):
                printed = 0
                for sql, bound in zip(statements, bindings, strict=True):
                    cursor = connection.cursor()
                    try:
                        cursor.execute(("EXPLAIN API " if args.estimate else "") + sql, bound)
                    finally:
                        # A write's calls (or a dry run's plan), also when it failed part-way.
                        for line in connection.session.take_write_report():
                            sys.stderr.write(line + "\n")
                    columns = [d[0] for d in cursor.description or ()]
                    if columns:
                        rows = []
                        while batch := cursor.fetchmany(500):
                            rows.extend(batch)
                            rows_seen[0] += len(batch)
                        if printed and args.format in ("table", "csv", "markdown"):
                            stream.write("\n")
                        stream.write(render(args.format, columns, rows))
                        stream.flush()
                        printed += 1
                    if not columns and cursor.rowcount >= 0 and cursor.statement_wrote:
                        dry = connection.session.options.dry_run
                        changed = "would change" if dry else "changed"
                        sys.stderr.write(f"{cursor.rowcount} rows {changed}\n")
                    for warning in getattr(cursor, "warnings", ()):
                        sys.stderr.write(f"warning: {warning}\n")
                    if args.stats:
                        sys.stderr.write("stats: " + json.dumps(cursor.stats) + "\n")
        finally:
            if stream is not sys.stdout:
                stream.close()
    return 0


def read_sql(args: argparse.Namespace) -> str:
    """The SQL argument, or stdin's whole text when it is '-'.

    Raises:
        InterfaceError: stdin is wanted for both the SQL and the token.
    """
    if args.sql != "-":
        return str(args.sql)
    if getattr(args, "token_file", None) == "-":
        raise InterfaceError(
            "stdin cannot hold both the SQL and the token: give the SQL as an argument, or "
            "the token with --token-file PATH or --token-prompt"
        )
    if is_terminal(sys.stdin):
        sys.stderr.write("reading SQL from stdin; end it with Ctrl-D\n")
    return sys.stdin.read()


def check_output(path: str | None) -> Path | None:
    """The --output file, checked before anything is sent (its folder must exist).

    Raises:
        InterfaceError: the folder does not exist or is not a folder; the path is a folder.
    """
    if path is None:
        return None
    target = Path(path)
    folder = target.parent
    if not folder.exists():
        raise InterfaceError(f"--output: folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise InterfaceError(f"--output: {folder} is not a folder")
    if target.is_dir():
        raise InterfaceError(f"--output: {target} is a folder; name a file in it")
    return target


def _open(path: Path) -> TextIO:
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise InterfaceError(f"--output: cannot write {path}: {exc.strerror}") from None
