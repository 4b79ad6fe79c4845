# apsw.shell has no annotations; calls into it are untyped by necessity.
# mypy: disable-error-code="no-untyped-call"
"""`sqlprovider shell`: apsw's interactive SQLite shell, taught the provider's tables.

The shell is `apsw.shell.Shell` (its dot-commands, output modes, completion, `.help`) with:
SQL rewritten as the engine does (three-part names, SHOW/DESCRIBE), the dot-commands
`.resources`, `.describe TABLE` and `.stats`, a `.tables` that lists the API tables, a
`.schema TABLE` that shows their columns, a `markdown` output mode, a live progress line on
stderr while a statement works, and a history file that never keeps a line holding the API
token (`shell_history`). Ctrl-C stops the running statement, drops its pending requests and says
it was cancelled; the shell stays open. SQL piped in that hits an error makes the shell exit with
status 1 at the end, as sqlite3 does.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import apsw
import apsw.shell

from sqlprovider.cli.options import add_connection_arguments, open_connection
from sqlprovider.cli.progress import ProgressMeter, logging_api_calls, secrets_of
from sqlprovider.cli.shell_history import forget_secret_entries, holds_secret, scrub_history_file
from sqlprovider.dbapi import Connection
from sqlprovider.sql.apsw_errors import map_exception

DEFAULT_HISTORY = "~/.sqlprovider_history"


def register(commands: Any) -> None:
    """Add `shell` to the `sqlprovider` subcommands."""
    parser = commands.add_parser(
        "shell",
        help="interactive SQL shell (apsw's shell with the API tables)",
        description=(
            "Interactive SQL shell over the DigitalOcean tables. Type .help for commands, "
            ".resources for the tables, .describe TABLE for a table's columns and keys, .stats "
            "for the API work of the last statement. SQL can also be piped in on stdin."
        ),
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a running count of API requests on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument(
        "--history",
        default=DEFAULT_HISTORY,
        help=f"readline history file (default {DEFAULT_HISTORY}); lines holding the token are "
        "never kept",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="log each API call on stderr: method, path, parameters, status, milliseconds "
        "(never the token)",
    )
    add_connection_arguments(parser)
    parser.set_defaults(run=run_shell)


def run_shell(args: argparse.Namespace) -> int:
    """Open the connection and run the shell until end of input or `.exit`.

    Returns:
        0, or 1 when SQL read from a pipe or file hit an error (as the sqlite3 shell does; an
        interactive session's errors were shown as they happened).
    """
    with (
        open_connection(args) as connection,
        logging_api_calls(args.verbose, sys.stderr, secrets_of(connection)),
    ):
        shell = ProviderShell(connection, progress=args.progress, history_file=args.history)
        shell.cmdloop()
    return 1 if shell.failures and not shell.interactive else 0


class ProviderShell(apsw.shell.Shell):
    """apsw's shell bound to one sqlprovider connection.

    Args:
        connection: the DB-API connection whose apsw connection the shell drives.
        stdin, stdout, stderr: streams (default: the process's own).
        progress: show the request count while a statement runs (None: when stderr is a tty).
        progress_interval: seconds between two updates of the request count.
        history_file: readline history (used only interactively on the real stdin).
        secrets: text never to keep in the history (default: the connection's token).
    """

    def __init__(
        self,
        connection: Connection,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        progress: bool | None = None,
        progress_interval: float = 0.5,
        history_file: str = DEFAULT_HISTORY,
        secrets: Iterable[str] | None = None,
    ) -> None:
        self.connection = connection
        self.secrets = tuple(
            s for s in (_token_of(connection) if secrets is None else secrets) if s
        )
        super().__init__(stdin=stdin, stdout=stdout, stderr=stderr, db=connection.apsw_connection)
        self.history_file = history_file
        self.prompt = "sqlprovider> "
        self.moreprompt = "        ...> "
        if progress is None:
            progress = bool(getattr(self.stderr, "isatty", None) and self.stderr.isatty())
        self.progress = progress
        self.progress_interval = progress_interval
        #: Errors shown so far (a script with any ends the process with status 1).
        self.failures = 0
        self._cancelled = False

    # --- the loop and its history ------------------------------------------------------------

    def cmdloop(self, intro: str | None = None, transient: str | None = None) -> None:
        """apsw's loop with our banner; afterwards the history file is checked for the token."""
        if intro is None:
            intro = (
                f"sqlprovider shell: SQLite {apsw.sqlite_lib_version()}, API at "
                f"{self.connection.session.client.base_url}\n"
                'Enter ".help" for commands, ".resources" for the API tables, '
                '".describe TABLE" for a table\'s columns.\n'
            )
        transient = transient or "Your own tables live in a transient in-memory database.\n"
        try:
            super().cmdloop(intro=intro, transient=transient)
        finally:
            if self._using_readline and self.history_file:
                scrub_history_file(Path(os.path.expanduser(self.history_file)), self.secrets)

    def get_line(self, prompt: str = "") -> str | None:
        """One input line; a line holding a secret is dropped from readline's history."""
        line: str | None = super().get_line(prompt)
        if line is not None and self._using_readline and holds_secret(line, self.secrets):
            import readline

            forget_secret_entries(readline, self.secrets)
        return line

    # --- SQL ---------------------------------------------------------------------------------

    def process_sql(
        self, sql: str, bindings: Any = None, internal: bool = False, summary: Any = None
    ) -> None:
        """Run SQL typed by the user as the engine would: rewritten, counted, interruptible."""
        if internal:
            super().process_sql(sql, bindings, internal, summary)
            return
        prepared = self.connection.prepare(sql)
        with self._tracking_statements(), self._showing_progress():
            try:
                super().process_sql(prepared, bindings, internal, summary)
            except KeyboardInterrupt:
                self._cancelled = True  # handle_interrupt says the statement was cancelled
                raise
            except apsw.Error as exc:
                if getattr(exc, "_handle_exception_saw_this", False):
                    raise
                mapped = map_exception(
                    exc, self.connection.session.refusals, names=self.connection.names
                )
                if mapped is None:
                    raise
                raise mapped from exc

    def handle_interrupt(self) -> None:
        """Ctrl-C: stop the running statement, drop its pending API requests, and say so.

        Interactively the shell says the statement was cancelled and reads the next line;
        reading a script, it stops (the command exits with status 130).
        """
        self.connection.session.statement.finish(abandon=True)
        self.db.interrupt()
        cancelled, self._cancelled = self._cancelled, False
        if not self.bail and self.interactive:
            said = "^C\n"
            if cancelled:
                said += "cancelled: the statement stopped; its pending API requests were dropped\n"
            self.write(self.stderr, said)
            return
        raise KeyboardInterrupt

    def handle_exception(self) -> None:
        """apsw's error display, counting errors (and Ctrl-C worded as a cancel)."""
        exc = sys.exc_info()[1]
        if isinstance(exc, KeyboardInterrupt):
            self.handle_interrupt()
            exc._handle_exception_saw_this = True  # type: ignore[attr-defined]
            return
        if not isinstance(exc, SystemExit):
            self.failures += 1
        super().handle_exception()

    def _query_details(self, sql: str, bindings: Any) -> Any:
        """apsw's statement splitter, with its SQLite errors worded as `sqlprovider query` does."""
        details = super()._query_details(sql, bindings)
        if isinstance(details.exception, apsw.Error):
            mapped = map_exception(
                details.exception, self.connection.session.refusals, names=self.connection.names
            )
            if mapped is not None:
                return dataclasses.replace(details, error_text=str(mapped), exception=mapped)
        return details

    @contextlib.contextmanager
    def _tracking_statements(self) -> Iterator[None]:
        """Warn about each statement the shell ran once the next starts (or the run ends).

        The session's statement trace gives each statement its own engine context (counters,
        memo), even though apsw's shell replaces the exec trace on its cursors.
        """
        session = self.connection.session
        running: list[Any] = []

        def started(statement: Any) -> None:
            if running:
                self._warn(running.pop())
            running.append(statement)

        session.listeners.append(started)
        try:
            yield
        finally:
            session.listeners.remove(started)
            if running:
                self._warn(running.pop())

    def _warn(self, statement: Any) -> None:
        """A finished statement's notices ("droplet_id 12345: not found, 0 rows") on stderr,
        and the calls a write sent (or, in a dry run, would send)."""
        for text in statement.warnings:
            self.write(self.stderr, f"warning: {text}\n")
        for line in self.connection.session.take_write_report():
            self.write(self.stderr, line + "\n")

    @contextlib.contextmanager
    def _showing_progress(self) -> Iterator[None]:
        if not self.progress:
            yield
            return
        meter = ProgressMeter(self.connection.session, self.stderr, self.progress_interval)
        with meter:
            yield

    # --- dot-commands ------------------------------------------------------------------------

    def command_resources(self, cmd: list[str]) -> None:
        """resources ?PATTERN?: List the API tables with their descriptions and required keys

        PATTERN is a LIKE pattern on the three-part name, such as %backup%.
        """
        pattern = cmd[0] if cmd else "%"
        self._show(
            "SELECT table_name AS name, required_keys, description FROM sqlprovider_resources "
            "WHERE table_name LIKE ?1 ORDER BY table_name",
            (pattern,),
        )

    def command_describe(self, cmd: list[str]) -> None:
        """describe TABLE: Show a table's columns: type, description, hidden, key, required

        TABLE may be the three-part name or an unambiguous short one (droplet_backups).
        Hidden columns are left out of SELECT * but can be named and filtered on; key columns
        are sent to the API, and required ones must be given with = or IN.
        """
        if len(cmd) != 1:
            raise self.Error("usage: .describe TABLE")
        self._show(self.connection.prepare(f"DESCRIBE EXTENDED {cmd[0]}"))

    def command_schema(self, cmd: list[str]) -> None:
        """schema ?TABLE? [TABLE...]: Show the CREATE statement of tables (API tables too)

        TABLE is an API table (whole or by an unambiguous short name such as droplets), or a
        LIKE pattern over your own tables and the API tables' three-part names. An API table
        shows the columns SQLite knows it by; HIDDEN ones are parameters and `raw`.
        """
        patterns = cmd or ["%"]
        resolver = self.connection.names
        for pattern in patterns:
            exact = resolver.lookup(pattern)
            tables = [exact] if exact else self._api_tables_like(pattern)
            for table in tables:
                self.write(self.stdout, api_table_sql(self.connection, table) + "\n")
            if exact is None:
                super().command_schema([pattern])

    def _api_tables_like(self, pattern: str) -> list[str]:
        rows = self.db.execute(
            "SELECT table_name FROM sqlprovider_resources WHERE table_name LIKE ?1 "
            "ORDER BY table_name",
            (pattern,),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def command_stats(self, cmd: list[str]) -> None:
        """stats: Show the API work of the last statement (requests, pages, retries, time)"""
        if cmd:
            raise self.Error("usage: .stats")
        stats = self.connection.session.statement.summary()
        self._show("SELECT key AS name, value FROM json_each(?1)", (json.dumps(stats),))

    def command_tables(self, cmd: list[str]) -> None:
        """tables ?PATTERN?: List the API tables, then your own tables and views

        PATTERN is a LIKE pattern.
        """
        self.push_output()
        self.output = self.output_list
        self.header = False
        try:
            for pattern in cmd or ["%"]:
                self.process_sql(
                    "SELECT table_name FROM sqlprovider_resources WHERE table_name LIKE ?1 "
                    "UNION ALL SELECT name FROM (SELECT name, type FROM sqlite_schema "
                    "UNION ALL SELECT name, type FROM sqlite_temp_schema) "
                    "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
                    "AND name LIKE ?1 ORDER BY 1",
                    (pattern,),
                    internal=True,
                )
        finally:
            self.pop_output()

    def command_open(self, cmd: list[str]) -> None:
        """open ?FILE?: Not available: the shell is bound to its API connection"""
        raise self.Error(
            "the sqlprovider shell keeps its API connection; ATTACH 'file.db' AS name "
            "reaches another database file"
        )

    def command_close(self, cmd: list[str]) -> None:
        """close: Not available: end the shell with .exit instead"""
        raise self.Error("the sqlprovider shell keeps its API connection; .exit ends the shell")

    def _show(self, sql: str, bindings: Any = None) -> None:
        """Run one of the shell's own queries in the current mode, with column names."""
        self.push_output()
        self.header = True
        try:
            self.process_sql(sql, bindings, internal=True)
        finally:
            self.pop_output()

    # --- output ------------------------------------------------------------------------------

    def output_markdown(self, header: bool, line: Any) -> None:
        """Markdown (GitHub) table; the header row is always written, as Markdown needs one"""
        if header:
            self.write(self.stdout, "| " + " | ".join(_markdown_cell(n, "") for n in line) + " |\n")
            self.write(self.stdout, "|" + "---|" * len(line) + "\n")
            return
        cells = (_markdown_cell(v, self.nullvalue) for v in line)
        self.write(self.stdout, "| " + " | ".join(cells) + " |\n")


def api_table_sql(connection: Connection, table: str) -> str:
    """`CREATE TABLE "digitalocean.compute.droplets"(id INTEGER, ...);` as SQLite knows it."""
    rows = connection.apsw_connection.execute(
        "SELECT name, type, hidden FROM sqlprovider_columns WHERE table_name = ?1 "
        "ORDER BY position",
        (table,),
    ).fetchall()
    columns = ", ".join(
        f"{name} {kind}{' HIDDEN' if hidden else ''}" for name, kind, hidden in rows
    )
    return f'CREATE TABLE "{table}"({columns}); -- API table (virtual, eponymous)'


def _token_of(connection: Connection) -> tuple[str, ...]:
    """The tokens of the connection's accounts, so the history can leave them out (never
    printed)."""
    tokens = (account.client.token for account in connection.session.accounts)
    return tuple(token.reveal() for token in tokens if token is not None)


def _markdown_cell(value: Any, null: str) -> str:
    if value is None:
        text = null
    elif isinstance(value, bytes):
        text = "X'" + value.hex().upper() + "'"
    else:
        text = str(value)
    return (
        text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")
    )
