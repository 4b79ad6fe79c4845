"""PEP 249 (DB-API 2.0) over apsw with the provider's tables attached: the module surface.

`connect()` returns a `Connection` whose cursors accept three-part names unquoted, the StackQL
metadata statements (SHOW ..., DESCRIBE ...), and plain SQLite alongside (temp tables, CTEs,
JSON and window functions). apsw's own errors are mapped onto the PEP 249 classes; the
engine's errors pass through unchanged. The settings `connect()` takes are declared once, in
`sqlprovider.options`.

This package is split by job: `connection` (the connection: name rewriting, transactions,
estimates), `cursor` (running statements and reading their rows) and `parameters` (binding
Python values as SQLite writes them). This module holds what PEP 249 puts on the module itself
(`connect`, `apilevel`, the exception classes, the type objects), so SQLAlchemy's dialect can
load `sqlprovider.dbapi` as its DBAPI. Imports `engine`, `sql`, `options`, `http`, `spec`,
`types` and `errors`; never `integrations` or `cli`.
"""

from __future__ import annotations

from typing import Any

import apsw

from sqlprovider import errors
from sqlprovider import types as _types
from sqlprovider.dbapi.connection import Connection
from sqlprovider.dbapi.cursor import Cursor
from sqlprovider.dbapi.parameters import Parameters
from sqlprovider.engine.attach import attach
from sqlprovider.engine.estimate import Estimate as Estimate  # the estimator's answer, re-exported
from sqlprovider.errors import InterfaceError
from sqlprovider.options import ConnectOptions, describe

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "Estimate",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "Parameters",
    "ProgrammingError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "connect",
    "paramstyle",
    "sqlite_version",
    "sqlite_version_info",
    "threadsafety",
]

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
