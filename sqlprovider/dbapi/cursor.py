"""The PEP 249 cursor: runs a statement on its connection and hands out the rows.

It owns one statement at a time: `EXPLAIN API` answered as rows, the result's description,
rowcount (an API write counts the rows it changed), the statement's stats, warnings and account
errors, and fetching under the connection's one-thread rule with apsw's errors mapped to PEP 249.
What SQL a statement becomes is the connection's job. Imports `engine`, `sql` and `errors`;
never `integrations` or `cli`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import apsw

from sqlprovider import errors
from sqlprovider.dbapi.parameters import Parameters, adapt
from sqlprovider.engine.estimate import EXPLAIN_COLUMNS, explain_rows
from sqlprovider.errors import InterfaceError
from sqlprovider.sql.apsw_errors import ApswErrorMapping

if TYPE_CHECKING:
    from sqlprovider.dbapi.connection import Connection

_EXPLAIN_API = re.compile(r"\s*EXPLAIN\s+API\s+(.+)\Z", re.IGNORECASE | re.DOTALL)


class Cursor:
    """A PEP 249 cursor; `stats` holds the API work of its last statement."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._cursor: apsw.Cursor | None = None
        self._rows: Iterator[tuple[Any, ...]] = iter(())
        self._description: tuple[tuple[Any, ...], ...] | None = None
        self._closed = False
        self._statement: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    def __repr__(self) -> str:
        return f"<sqlprovider.Cursor {'closed' if self._closed else 'open'}>"

    @property
    def description(self) -> tuple[tuple[Any, ...], ...] | None:
        """Name and type of each result column (PEP 249 7-tuples), or None without a result."""
        return self._description

    @property
    def statement_wrote(self) -> bool:
        """Whether the last statement was a write to an API table (rowcount counts its rows)."""
        return self._statement is not None and self._statement.changed_rows is not None

    @property
    def stats(self) -> dict[str, float]:
        """API requests, pages, retries, 429s, cache hits, bytes, time and the number of
        warnings of the last statement."""
        return self._statement.summary() if self._statement is not None else {}

    @property
    def account_errors(self) -> list[dict[str, Any]]:
        """Accounts the last statement left out (`on_account_error="skip"`): account, table,
        status, error. Empty when every account answered; `warnings` says so too."""
        if self._statement is None:
            return []
        return [
            {"account": f.account, "table": f.table, "status": f.status, "error": f.error}
            for f in self._statement.failures.values()
        ]

    @property
    def warnings(self) -> list[str]:
        """Notices about the last statement's answer, such as ``digitalocean.compute.
        droplet_backups: droplet_id 12345: not found, 0 rows``: zero rows that are the right
        SQL answer but deserve a word (the key names nothing, the API has nothing of that kind).
        """
        return self._statement.warnings if self._statement is not None else []

    def execute(self, sql: str, parameters: Parameters | None = None) -> Cursor:
        """Run one statement (or several separated by `;`).

        `EXPLAIN API <statement>` answers, instead of running it, the requests the statement
        would make per endpoint, their time under the rate limits and their share of the hourly
        budget (see `Connection.estimate`).
        """
        explained = _EXPLAIN_API.match(sql)
        if explained is not None:
            answer = explain_rows(self.connection.estimate(explained.group(1), parameters))
            marks = ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(answer))
            names = ", ".join(f"column{i + 1} AS {n}" for i, n in enumerate(EXPLAIN_COLUMNS))
            sql = f"SELECT {names} FROM (VALUES {marks})"
            parameters = [value for row in answer for value in row]
        db = self._open()
        connection = self.connection
        connection._enter()
        try:
            self._reset()
            cursor = db.cursor()
            cursor.exec_trace = self._trace
            changes = db.total_changes()
            with self._guard():
                rows = cursor.execute(connection.prepare(sql), adapt(parameters))
                self._rows = iter(rows)
                self._peek_description(cursor)
            self._cursor = cursor
            if self._description is None:
                written = self._statement.changed_rows if self._statement is not None else None
                # API tables: the rows whose change was sent (or staged, or previewed).
                self.rowcount = written if written is not None else db.total_changes() - changes
                self.lastrowid = db.last_insert_rowid()
        finally:
            connection._leave()
        return self

    def executemany(self, sql: str, seq_of_parameters: Sequence[Parameters]) -> Cursor:
        """Run one statement once per parameter set."""
        db = self._open()
        total = 0
        for parameters in seq_of_parameters:
            before = db.total_changes()
            self.execute(sql, parameters)
            self.fetchall() if self._description else None
            # An API write counts the rows it changes (see execute), SQLite the rows it wrote.
            total += self.rowcount if self.statement_wrote else db.total_changes() - before
        self.rowcount = total
        return self

    def _trace(self, cursor: apsw.Cursor, sql: str, bindings: Any) -> bool:
        self.connection.session.on_statement(cursor, sql, bindings)
        self._statement = self.connection.session.statement
        try:
            description = cursor.description
        except apsw.ExecutionCompleteError:
            description = ()
        self._description = tuple(description) if description else None
        return True

    def _peek_description(self, cursor: apsw.Cursor) -> None:
        if self._description is not None:
            return
        try:
            description = cursor.description
        except apsw.ExecutionCompleteError:
            return
        self._description = tuple(description) if description else None

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None at the end."""
        rows = self.fetchmany(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to `size` (default `arraysize`) more rows."""
        self._result()
        wanted = self.arraysize if size is None else size
        self.connection._enter()
        try:
            with self._guard():
                return list(itertools.islice(self._rows, max(wanted, 0)))
        finally:
            self.connection._leave()

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every remaining row."""
        self._result()
        self.connection._enter()
        try:
            with self._guard():
                return list(self._rows)  # apsw rows are tuples already
        finally:
            self.connection._leave()

    def _guard(self) -> ApswErrorMapping:
        """PEP 249 errors, and a failed statement's queued API requests cancelled."""
        return ApswErrorMapping(
            self.connection.session.refusals.copy, self._stop_statement, names=self.connection.names
        )

    def _stop_statement(self, exc: BaseException) -> None:
        if self._statement is not None:
            interrupted = isinstance(exc, KeyboardInterrupt)
            if interrupted:
                self._statement.finish(abandon=True)
            else:
                self._statement.finish(self.connection.session.client.timeout)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        # In batches: the busy check and error mapping then cost little per row.
        while batch := self.fetchmany(max(self.arraysize, 256)):
            yield from batch

    def close(self) -> None:
        """Close the cursor; its unread rows and pending requests are dropped."""
        # rowcount outlives close(), as in sqlite3: SQLAlchemy reads it after closing a cursor
        # that returned no rows.
        rowcount = self.rowcount
        self._reset()
        self.rowcount = rowcount
        self._closed = True

    def _reset(self) -> None:
        if self._cursor is not None:
            self._cursor.close(force=True)
        self._cursor = None
        self._rows = iter(())
        self._description = None
        self.rowcount = -1

    def _result(self) -> None:
        # PEP 249: fetching without a result set (nothing run yet, or DDL/DML) is an error.
        self._open()
        if self._description is None:
            raise errors.ProgrammingError(
                "no result set to fetch from: run a statement that returns rows (such as "
                "SELECT) with execute() first"
            )

    def _open(self) -> apsw.Connection:
        if self._closed:
            raise InterfaceError("the cursor is closed; get a new one with connection.cursor()")
        return self.connection._checked()

    def setinputsizes(self, sizes: Any) -> None:
        """Accepted and ignored (PEP 249)."""

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        """Accepted and ignored (PEP 249)."""

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
