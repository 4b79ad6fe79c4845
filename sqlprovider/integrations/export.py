"""Copy API tables or query results into a plain SQLite file that needs no sqlprovider to read.

A snapshot lets Datasette, the sqlite3 shell or a spreadsheet work on yesterday's Droplets
without a token or API calls. Every source is read first, then written in one transaction, so an
API failure leaves the file as it was and a reader never sees a half-replaced table. Columns keep
the declared type the query reported (INTEGER, TEXT, REAL, BOOLEAN, JSON); an expression without
one gets the type of its first non-NULL value. `_sqlprovider_exports` records each table written:
when (UTC, ISO 8601), from what (table name or SQL text), the API URL (never the token) and the
row count. Imports `dbapi` and `errors`.

    with sqlprovider.connect() as connection:
        export(connection, "snapshot.db", tables=["digitalocean.compute.droplets"],
               queries=[("big", "SELECT id, name FROM digitalocean.compute.droplets "
                                "WHERE memory > 4096")])
"""

from __future__ import annotations

import datetime
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlprovider.dbapi import Connection
from sqlprovider.errors import InterfaceError, OperationalError, ProgrammingError

#: The table recording every export into a file.
LOG_TABLE = "_sqlprovider_exports"

_LOG_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} ("
    "exported_at TEXT NOT NULL, table_name TEXT NOT NULL, kind TEXT NOT NULL, "
    "source TEXT NOT NULL, api_url TEXT, row_count INTEGER NOT NULL)"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Exported:
    """One table written: its name, where it came from, its columns and how many rows."""

    table: str
    kind: str  # "table" or "query"
    source: str
    columns: tuple[tuple[str, str], ...]  # (name, declared type)
    row_count: int


@dataclass(frozen=True)
class _Result:
    table: str
    kind: str
    source: str
    columns: tuple[tuple[str, str], ...]
    rows: list[tuple[Any, ...]]


def table_name_for(qualified_name: str) -> str:
    """The plain SQLite name an API table gets in the file: dots become underscores.

    ``digitalocean.compute.droplets`` → ``digitalocean_compute_droplets``, so readers of the file
    need no quoting.
    """
    return qualified_name.replace(".", "_")


def export(
    connection: Connection,
    path: str | Path,
    *,
    tables: Sequence[str] = (),
    queries: Sequence[tuple[str, str]] = (),
    now: datetime.datetime | None = None,
) -> list[Exported]:
    """Write `tables` (whole API tables) and `queries` ((name, SQL) pairs) into the file `path`.

    Args:
        connection: where the data is read.
        path: the SQLite file, created if missing; other tables in it are left alone.
        tables: API tables by three-part name; a table that needs a key (droplet_backups needs
            droplet_id) cannot be copied whole, so give it as a query with a WHERE or JOIN.
        queries: (table name, SQL) pairs; the name must be a plain identifier.
        now: the time to record (default: now, UTC).

    Returns:
        One `Exported` per table written, in the order given.

    Raises:
        InterfaceError: nothing to export, or a name is reused or not a plain identifier.
        ProgrammingError: an unknown or keyed table, or SQL that returns no rows.
        OperationalError: the file cannot be written (nothing in it changed).
    """
    sources = _sources(connection, tables, queries)
    results = [_read(connection, table, kind, source, sql) for table, kind, source, sql in sources]
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(datetime.timezone.utc)
    try:
        _write(Path(path), results, stamp.isoformat(timespec="seconds"), _safe_url(connection))
    except sqlite3.Error as exc:
        raise OperationalError(f"cannot write {path}: {exc}; the file is unchanged") from exc
    return [Exported(r.table, r.kind, r.source, r.columns, len(r.rows)) for r in results]


def _sources(
    connection: Connection, tables: Sequence[str], queries: Sequence[tuple[str, str]]
) -> list[tuple[str, str, str, str]]:
    """(target table, kind, recorded source, SQL to run) for every request, checked."""
    if not tables and not queries:
        raise InterfaceError("nothing to export: name at least one table or query")
    keyed = dict(
        connection.execute("SELECT table_name, required_keys FROM sqlprovider_resources").fetchall()
    )
    out: list[tuple[str, str, str, str]] = []
    for given in tables:
        name = _resolve(given, keyed)
        if keyed[name]:
            raise ProgrammingError(
                f"{name} needs {keyed[name]} for every request, so it cannot be copied whole; "
                f"export a query that supplies it instead, for example --query "
                f'NAME="SELECT * FROM {name} WHERE {keyed[name]} = ..." or a JOIN on '
                f"{keyed[name]} from the table that lists them"
            )
        out.append((table_name_for(name), "table", name, f'SELECT * FROM "{name}"'))
    for target, sql in queries:
        if not _NAME.match(target) or target.lower().startswith("sqlite_"):
            raise InterfaceError(
                f"export table name {target!r} must be a plain identifier (letters, digits, _) "
                "not starting with sqlite_"
            )
        out.append((target, "query", sql, sql))
    seen: set[str] = set()
    for target, *_ in out:
        if target.lower() in seen or target.lower() == LOG_TABLE:
            raise InterfaceError(f"export table name {target!r} is used twice or reserved")
        seen.add(target.lower())
    return out


def _resolve(given: str, known: dict[str, str]) -> str:
    """The three-part name for `given`, which may also be `service.resource` if unambiguous."""
    lowered = given.lower()
    if lowered in known:
        return lowered
    matches = [name for name in known if name.endswith("." + lowered)]
    if len(matches) == 1:
        return matches[0]
    raise ProgrammingError(f"no API table {given!r}; known tables: {', '.join(sorted(known))}")


def _read(connection: Connection, table: str, kind: str, source: str, sql: str) -> _Result:
    cursor = connection.execute(sql)
    if cursor.description is None:
        raise ProgrammingError(f"the SQL for {table!r} returns no rows to export: {sql}")
    rows = cursor.fetchall()
    names = [d[0] for d in cursor.description]
    if len({n.lower() for n in names}) != len(names):
        raise ProgrammingError(
            f"the SQL for {table!r} returns two columns with one name; give them aliases with AS"
        )
    declared = [d[1] for d in cursor.description]
    columns = tuple((name, declared[i] or _guess_type(rows, i)) for i, name in enumerate(names))
    return _Result(table, kind, source, columns, rows)


def _guess_type(rows: list[tuple[Any, ...]], index: int) -> str:
    """The SQLite type of the first non-NULL value in column `index` ('' if all are NULL)."""
    for row in rows:
        value = row[index]
        if value is None:
            continue
        if isinstance(value, bool | int):
            return "INTEGER"
        if isinstance(value, float):
            return "REAL"
        if isinstance(value, bytes):
            return "BLOB"
        return "TEXT"
    return ""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _write(path: Path, results: list[_Result], stamp: str, api_url: str | None) -> None:
    """Replace every result's table and log it, all in one transaction."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_LOG_SCHEMA)
            for result in results:
                table = _quote(result.table)
                db.execute(f"DROP TABLE IF EXISTS {table}")
                db.execute(
                    f"CREATE TABLE {table} ("
                    + ", ".join(f"{_quote(n)} {t}".rstrip() for n, t in result.columns)
                    + ")"
                )
                marks = ", ".join("?" for _ in result.columns)
                db.executemany(f"INSERT INTO {table} VALUES ({marks})", result.rows)
                db.execute(
                    f"INSERT INTO {LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
                    (stamp, result.table, result.kind, result.source, api_url, len(result.rows)),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.close()


def _safe_url(connection: Connection) -> str | None:
    """The connection's API base URL without any user, password, query or fragment."""
    url = str(connection.session.client.base_url or "")
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
