"""sqlprovider: query the DigitalOcean API with SQL, through SQLite virtual tables.

    >>> import sqlprovider
    >>> con = sqlprovider.connect()          # token from $DIGITALOCEAN_TOKEN
    >>> con.execute("SELECT id, name FROM digitalocean.compute.droplets").fetchall()

The public surface is the PEP 249 module interface (`connect`, the globals and the exception
classes), `ConnectOptions` (every connection setting), `attach` for raw apsw connections, and
`__version__`.
"""

from __future__ import annotations

from sqlprovider.dbapi import Connection, Cursor, apilevel, connect, paramstyle, threadsafety
from sqlprovider.engine.attach import attach
from sqlprovider.errors import (
    ApiError,
    AuthenticationError,
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    InvalidParameterError,
    ListChangedError,
    MissingKeyColumnError,
    NotFoundError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    RateLimitError,
    ResponseError,
    ServiceError,
    SpecError,
    Warning,
    WriteError,
)
from sqlprovider.options import ConnectOptions, OptionError
from sqlprovider.types import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)

__version__ = "0.1.0"

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "ApiError",
    "AuthenticationError",
    "Binary",
    "ConnectOptions",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "InvalidParameterError",
    "ListChangedError",
    "MissingKeyColumnError",
    "NotFoundError",
    "NotSupportedError",
    "OperationalError",
    "OptionError",
    "ProgrammingError",
    "RateLimitError",
    "ResponseError",
    "ServiceError",
    "SpecError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "WriteError",
    "__version__",
    "apilevel",
    "attach",
    "connect",
    "paramstyle",
    "threadsafety",
]
