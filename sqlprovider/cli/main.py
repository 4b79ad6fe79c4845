"""`sqlprovider`: the command line.

    sqlprovider --version
    sqlprovider query [--sandbox] [--format FORMAT] [--output FILE] [--stats] "SQL"
    sqlprovider shell [--sandbox]
    sqlprovider sandbox serve [--port 0] [--seed N] [--droplets N] ...
    sqlprovider docs build [--check]
    sqlprovider export --db FILE.db ...
    sqlprovider sync --into FILE.db [--every 15m] ...
    sqlprovider recipes [NAME] [--run [--param NAME=VALUE]]

Errors go to stderr with a non-zero exit status; results go to stdout (or --output).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sqlprovider.errors import AuthenticationError, Error

#: Each subcommand's module (which defines `register(commands)`) and one-line help. Only the
#: module of the command being run is imported, which keeps `sqlprovider query` quick to start.
COMMANDS: dict[str, tuple[str, str]] = {
    "query": ("sqlprovider.cli.query", "run SQL and print the result"),
    "shell": ("sqlprovider.cli.shell", "interactive SQL shell"),
    "sandbox": ("sqlprovider.cli.sandbox", "the local emulator of the DigitalOcean API"),
    "docs": ("sqlprovider.cli.docs", "generate the table reference pages"),
    "export": ("sqlprovider.cli.export", "write tables or queries into a SQLite database file"),
    "sync": ("sqlprovider.cli.sync", "keep a SQLite file current with the API, with history"),
    "recipes": ("sqlprovider.cli.recipes", "list, show or run the compliance recipes"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, the other subcommands are listed but not loaded."""
    parser = argparse.ArgumentParser(
        prog="sqlprovider",
        description="Query the DigitalOcean API with SQL (SQLite virtual tables).",
    )
    parser.add_argument(
        "--version", action="version", version=version_text(), help="print the versions and exit"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if only in (None, name):
            importlib.import_module(module).register(commands)
        else:
            commands.add_parser(name, help=help_text, add_help=False)
    return parser


def version_text() -> str:
    """`sqlprovider 0.1.0 (SQLite 3.54.1, apsw 3.54.1.0, Python 3.11.7)`."""
    import apsw

    import sqlprovider

    # sys.version_info, not the platform module: importing that cost every start a few ms.
    python = ".".join(str(part) for part in sys.version_info[:3])
    return (
        f"sqlprovider {sqlprovider.__version__} (SQLite {apsw.sqlite_lib_version()}, apsw "
        f"{apsw.apsw_version()}, Python {python})"
    )


#: The Python way to give a token, as library messages say it, and the command line's ways.
PYTHON_TOKEN = "connect(token=...)"
CLI_TOKEN = "--token-file PATH or --token-prompt"


def cli_message(exc: Error) -> str:
    """The message of `exc` as the command line words it: CLI flags, not connect() arguments.

    A message about the token names `connect(token=...)`, the Python way; the CLI shows its
    flags there instead (and says that `--token` on the command line is visible in `ps`).
    Everything else in the message (an account's name, the API's answer) stays as it is.
    """
    text = str(exc)
    if isinstance(exc, AuthenticationError) and PYTHON_TOKEN in text:
        text = text.replace(PYTHON_TOKEN, CLI_TOKEN)
        text += " (--token TOKEN works too, but is visible to other users in ps)"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sqlprovider` console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    only = arguments[0] if arguments and arguments[0] in COMMANDS else None
    args = build_parser(only).parse_args(arguments)
    try:
        return int(args.run(args))
    except Error as exc:
        sys.stderr.write(f"error: {cli_message(exc)}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(
            "cancelled (Ctrl-C): the statement stopped; its pending API requests were dropped\n"
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
