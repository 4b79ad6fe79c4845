"""PEP 249 (DB-API 2.0) over apsw with the provider's tables attached.

`connect()` returns a `Connection` whose cursors accept three-part names unquoted, the StackQL
metadata statements (SHOW ..., DESCRIBE ...), and plain SQLite alongside (temp tables, CTEs,
JSON and window functions). apsw's own errors are mapped onto the PEP 249 classes; the
engine's errors pass through unchanged. The settings `connect()` takes are declared once, in
`sqlprovider.options`. Imports `engine`, `sql`, `options`, `http`, `spec` and `errors`.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import apsw

from sqlprovider import errors
from sqlprovider import types as _types
from sqlprovider.engine.attach import attach
from sqlprovider.engine.estimate import EXPLAIN_COLUMNS, Collector, explain_rows
from sqlprovider.engine.estimate import Estimate as Estimate  # the estimator's answer, re-exported
from sqlprovider.errors import InterfaceError
from sqlprovider.options import ConnectOptions, describe
from sqlprovider.sql.accounts import AccountJoins
from sqlprovider.sql.apsw_errors import ApswErrorMapping
from sqlprovider.sql.names import NameResolver, NameRewriter
from sqlprovider.sql.nullkeys import check_null_keys
from sqlprovider.sql.show import translate_metadata

apilevel = "2.0"
#: Threads may share the module, not connections (each connection has one SQLite handle).
threadsafety = 1
paramstyle = "qmark"

#: The SQLite library's version, under the names the standard `sqlite3` module uses (SQLAlchemy's
#: SQLite dialect reads `sqlite_version_info` to choose features).
sqlite_version: str = apsw.sqlite_lib_version()
sqlite_version_info: tuple[int, ...] = tuple(int(part) for part in sqlite_version.split("."))

# PEP 249 puts the exception classes and type objects on the module itself, so this module is a
# complete DB-API module on its own (SQLAlchemy's dialect loads it as its DBAPI).
Warning = errors.Warning
Error = errors.Error
DatabaseError = errors.DatabaseError
DataError = errors.DataError
OperationalError = errors.OperationalError
IntegrityError = errors.IntegrityError
InternalError = errors.InternalError
ProgrammingError = errors.ProgrammingError
NotSupportedError = errors.NotSupportedError
Date = _types.Date
Time = _types.Time
Timestamp = _types.Timestamp
Binary = _types.Binary
DateFromTicks = _types.DateFromTicks
TimeFromTicks = _types.TimeFromTicks
TimestampFromTicks = _types.TimestampFromTicks
STRING = _types.STRING
BINARY = _types.BINARY
NUMBER = _types.NUMBER
DATETIME = _types.DATETIME
ROWID = _types.ROWID

Parameters = Sequence[Any] | Mapping[str, Any]

_EXPLAIN_API = re.compile(r"\s*EXPLAIN\s+API\s+(.+)\Z", re.IGNORECASE | re.DOTALL)


def _is_read_only(db: apsw.Connection, sql: str) -> bool:
    """Whether every statement in `sql` only reads (asked of SQLite, nothing is run)."""
    verdicts: list[bool] = []

    def trace(cursor: apsw.Cursor, _sql: str, _bindings: Any) -> bool:
        verdicts.append(bool(cursor.is_readonly))
        return False  # stop before the statement runs

    cursor = db.cursor()
    cursor.exec_trace = trace
    try:
        cursor.execute(sql)
    except apsw.ExecTraceAbort:
        pass
    except apsw.Error:
        return True  # a broken statement fails with its own error when it runs
    return all(verdicts)


def connect(
    token: str | None = None,
    api_url: str | None = None,
    *,
    database: str = ":memory:",
    options: ConnectOptions | None = None,
    **settings: Any,
) -> Connection:
    """Open a connection whose SQL can read the DigitalOcean API.

    Every table has a hidden `account` column. With several accounts (`accounts=`, named in
    the config file) each is queried, in parallel and within its own rate limit, unless `WHERE
    account = ...` narrows them, and joins match rows within one account.

    Args:
        token: API token (one account, `default`); else $DIGITALOCEAN_TOKEN, else
            $DIGITALOCEAN_ACCESS_TOKEN, unless `accounts=` or a config file says otherwise.
        api_url: base URL; else $DIGITALOCEAN_API_URL, else https://api.digitalocean.com.
        database: the SQLite database for your own tables (default: in memory).
        options: a `ConnectOptions`; `token`, `api_url` and `settings` override its fields.
        **settings: any other `ConnectOptions` setting by name (listed below).

    Raises:
        InterfaceError: a bad setting (an `OptionError` naming it) or a refused URL.
        OperationalError: the database file cannot be opened.
    """
    if token is not None:
        settings["token"] = token
    if api_url is not None:
        settings["api_url"] = api_url
    resolved = (options or ConnectOptions()).replace(**settings)
    try:
        db = apsw.Connection(database)
    except apsw.Error as exc:
        raise errors.OperationalError(f"cannot open database {database!r}: {exc}") from exc
    try:
        session = attach(db, resolved)
    except BaseException:
        db.close()
        raise
    return Connection(db, session)


connect.__doc__ = f"{connect.__doc__}\n    Settings:\n{describe()}\n"


class Connection:
    """A PEP 249 connection. Use one per thread; it is not shared safely between threads."""

    Warning = errors.Warning
    Error = errors.Error
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    def __init__(self, db: apsw.Connection, session: Any) -> None:
        self._db: apsw.Connection | None = db
        self._session = session
        self._tables = tuple(r.qualified_name for r in session.provider.resources())
        self._rewriter = NameRewriter(self._tables, shadowed=self._is_own_table)
        self._joins = AccountJoins(self._tables) if session.multi_account else None
        self._busy = threading.Lock()

    @property
    def names(self) -> NameResolver:
        """How a table name (whole, service.resource or resource alone) resolves here."""
        return self._rewriter.resolver

    def _is_own_table(self, name: str) -> bool:
        """Whether a table or view of your own is called `name` (it wins over an API table)."""
        if self._db is None:
            return False
        cursor = self._db.cursor()
        cursor.exec_trace = lambda *_: True  # not a statement of the user's
        found = cursor.execute(
            "SELECT 1 FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?1 "
            "COLLATE NOCASE UNION ALL SELECT 1 FROM sqlite_temp_schema WHERE type IN "
            "('table', 'view') AND name = ?1 COLLATE NOCASE LIMIT 1",
            (name,),
        ).fetchall()
        return bool(found)

    def __repr__(self) -> str:
        state = "closed" if self._db is None else self._session.client.base_url
        return f"<sqlprovider.Connection {state}>"

    @property
    def apsw_connection(self) -> apsw.Connection:
        """The underlying apsw connection (for the shell and other apsw tools)."""
        return self._checked()

    @property
    def session(self) -> Any:
        """The engine session: current statement, last statistics, client."""
        return self._session

    def _checked(self) -> apsw.Connection:
        if self._db is None:
            raise InterfaceError(
                "the connection is closed; open a new one with sqlprovider.connect()"
            )
        return self._db

    def prepare(self, sql: str) -> str:
        """The SQL SQLite will run for `sql`: metadata statements translated, names quoted."""
        check_null_keys(sql, self._session.provider)
        prepared = self._rewriter.rewrite(translate_metadata(sql, self._tables) or sql)
        return self._joins.rewrite(prepared) if self._joins is not None else prepared

    @property
    def accounts(self) -> tuple[str, ...]:
        """The names of the accounts this connection reads."""
        return tuple(account.name for account in self._session.accounts)

    def cursor(self) -> Cursor:
        """A new cursor."""
        self._checked()
        return Cursor(self)

    def execute(self, sql: str, parameters: Parameters | None = None) -> Cursor:
        """Shortcut: a new cursor, executed."""
        return self.cursor().execute(sql, parameters)

    def commit(self) -> None:
        """Commit the open transaction: staged API writes are sent now, then SQLite commits."""
        db = self._checked()
        if db.in_transaction:
            self._run_plain("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction: staged API writes are dropped, none is sent."""
        db = self._checked()
        if db.in_transaction:
            self._run_plain("ROLLBACK")

    def _run_plain(self, sql: str) -> None:
        with ApswErrorMapping(self._session.refusals.copy, names=self.names):
            self._checked().execute(sql)

    def close(self) -> None:
        """Close the connection; a second close raises InterfaceError (PEP 249)."""
        db = self._checked()
        self._db = None
        self._session.close()
        db.close()

    def estimate(self, sql: str, parameters: Parameters | None = None) -> Estimate:
        """The requests `sql` will make, per endpoint, without making most of them.

        The statement runs with its keyed calls counted instead of sent: only the first page
        of each list is read (and every page of a list whose values a join needs as keys), so
        the estimate costs a few cheap calls. Parts that are guesses are marked as such.

        Raises:
            NotSupportedError: `sql` would change something (only reads are estimated).
        """
        db = self._checked()
        if not _is_read_only(db, self.prepare(sql)):
            raise errors.NotSupportedError(
                "only a statement that reads can be estimated (EXPLAIN API, --estimate); this "
                "one would change data"
            )
        collector = Collector()
        self._session.estimating = collector
        try:
            cursor = self.execute(sql, parameters)
            while cursor.description is not None and cursor.fetchmany(1024):
                pass
        finally:
            self._session.estimating = None
        return collector.result(self._session.client.rate_limits)

    def clear_cache(self) -> int:
        """Empty the response cache shared by this process; return how many entries it held."""
        return int(self._session.client.cache.clear())

    @property
    def last_stats(self) -> dict[str, float]:
        """API work of the most recent statement on this connection."""
        return dict(self._session.statement.summary())

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._db is not None:
            self.close()

    def interrupt(self) -> None:
        """Stop the running statement from another thread (its pending requests are dropped)."""
        if self._db is not None:
            self._session.statement.finish()
            self._db.interrupt()

    def _enter(self) -> None:
        if not self._busy.acquire(blocking=False):
            raise InterfaceError(
                "this connection is being used by another thread right now; open one "
                "connection per thread with sqlprovider.connect()"
            )

    def _leave(self) -> None:
        self._busy.release()


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
                rows = cursor.execute(connection.prepare(sql), _adapt(parameters))
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
            self._statement.finish(0.0 if interrupted else self.connection.session.client.timeout)

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


def _adapt(parameters: Parameters | None) -> Any:
    """Bind dates and times as ISO text, which is how SQLite (and the API) write them."""
    if parameters is None:
        return None
    if isinstance(parameters, Mapping):
        return {k: _adapt_value(v) for k, v in parameters.items()}
    return tuple(_adapt_value(v) for v in parameters)


def _adapt_value(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return _adapt_decimal(value)
    return value


def _adapt_decimal(value: decimal.Decimal) -> int | float:
    """A `Decimal` as the SQLite number it equals: an integer when whole, else the float that
    prints the same (so `Decimal("2.5")` binds as 2.5). One no float can hold is refused rather
    than rounded quietly."""
    if value.is_finite() and value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    if not value.is_finite() or decimal.Decimal(repr(as_float)) == value:
        return as_float
    raise errors.ProgrammingError(
        f"cannot bind Decimal({str(value)!r}) exactly: SQLite stores 64-bit integers and "
        "doubles only; bind float(value) or str(value) if a rounded or text value will do"
    )
