"""The PEP 249 connection: one SQLite handle with the provider's tables attached.

It owns what is shared by every cursor of the connection: the SQL each statement becomes (metadata
statements translated, table names resolved and quoted, joins kept within an account), the
transaction (staged API writes go out at COMMIT), estimates (EXPLAIN API) and the rule of one
thread at a time. Running a statement and reading its rows is `cursor`'s job. Imports `engine`,
`sql` and `errors`; never `integrations` or `cli`.
"""

from __future__ import annotations

import threading
from typing import Any

import apsw

from sqlprovider import errors
from sqlprovider.dbapi.cursor import Cursor
from sqlprovider.dbapi.parameters import Parameters
from sqlprovider.engine.estimate import Collector, Estimate
from sqlprovider.errors import InterfaceError
from sqlprovider.sql.accounts import AccountJoins
from sqlprovider.sql.apsw_errors import ApswErrorMapping
from sqlprovider.sql.names import NameResolver, NameRewriter
from sqlprovider.sql.nullkeys import check_null_keys
from sqlprovider.sql.show import translate_metadata


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
        """Empty the response cache shared by this process (and the rows this connection built
        from it); return how many answers it held."""
        return int(self._session.clear_cache())

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
            self._session.statement.finish(abandon=True)
            self._db.interrupt()

    def _enter(self) -> None:
        if not self._busy.acquire(blocking=False):
            raise InterfaceError(
                "this connection is being used by another thread right now; open one "
                "connection per thread with sqlprovider.connect()"
            )

    def _leave(self) -> None:
        self._busy.release()
