"""`sqlprovider`: the command line.

    sqlprovider query [--sandbox] [--format FORMAT] [--output FILE] [--stats] "SQL"
    sqlprovider sandbox serve [--port 0] [--seed N] [--droplets N] ...

Errors go to stderr with a non-zero exit status; results go to stdout (or --output).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sqlprovider.cli.options import add_connection_arguments, open_connection
from sqlprovider.cli.output import FORMATS, render
from sqlprovider.errors import Error


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="sqlprovider",
        description="Query the DigitalOcean API with SQL (SQLite virtual tables).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    add_connection_arguments(query)
    query.set_defaults(run=run_query)

    sandbox = commands.add_parser("sandbox", help="the local emulator of the DigitalOcean API")
    sandbox_commands = sandbox.add_subparsers(
        dest="sandbox_command", required=True, metavar="COMMAND"
    )
    serve = sandbox_commands.add_parser(
        "serve",
        help="serve the emulator until interrupted",
        description=(
            "Serve a seeded emulator of the API on loopback; prints a JSON line with url and token."
        ),
    )
    from sqlprovider.sandbox.cli import add_serve_arguments, run_serve

    add_serve_arguments(serve)
    serve.set_defaults(run=run_serve)

    for register in _optional_commands():
        register(commands)
    return parser


def _optional_commands() -> list:  # type: ignore[type-arg]
    """Subcommands defined in their own modules (shell, docs, export)."""
    found = []
    for module_name in ("sqlprovider.cli.shell", "sqlprovider.cli.docs", "sqlprovider.cli.export"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        found.append(module.register)
    return found


def run_query(args: argparse.Namespace) -> int:
    """`sqlprovider query`: run the SQL, print the last result."""
    with open_connection(args) as connection:
        cursor = connection.cursor()
        cursor.execute(args.sql)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchall() if columns else []
        text = render(args.format, columns, rows) if columns else ""
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            sys.stdout.write(text)
        if args.stats:
            sys.stderr.write("stats: " + json.dumps(cursor.stats) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sqlprovider` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except Error as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
