"""Copy API tables or query results into a plain SQLite file: the one-shot form of `sync`.

Same tables, names, types and keyed-table reads as `sync` (both lay the file out with
`layout`), but a snapshot: each table is replaced whole, with no history and no `_synced_at`.

A snapshot lets Datasette, the sqlite3 shell or a spreadsheet work on yesterday's Droplets
without a token or API calls. Every source is read first, then written in one transaction, so an
API failure leaves the file as it was and a reader never sees a half-replaced table. Columns keep
the declared type the query reported (INTEGER, TEXT, REAL, BOOLEAN, JSON); an expression without
one gets the type of its first non-NULL value. `_sqlprovider_exports` records each table written:
when (UTC, ISO 8601), from what (table name or SQL text), the API URL (never the token) and the
row count. Imports `dbapi`, `errors` and the sibling `layout`/`sync`.

    with sqlprovider.connect() as connection:
        export(connection, "snapshot.db", tables=["digitalocean.compute.droplets"],
               queries=[("big", "SELECT id, name FROM digitalocean.compute.droplets "
                                "WHERE memory > 4096")])
"""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlprovider.dbapi import Connection
from sqlprovider.errors import InterfaceError, OperationalError, ProgrammingError
from sqlprovider.integrations.layout import (
    Source,
    check_unique,
    query_source,
    resolve,
    resource_source,
    table_name_for,
    with_result_columns,
)
from sqlprovider.integrations.sync import safe_url

__all__ = ["LOG_TABLE", "Exported", "export", "table_name_for"]

#: The table recording every export into a file.
LOG_TABLE = "_sqlprovider_exports"

_LOG_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} ("
    "exported_at TEXT NOT NULL, table_name TEXT NOT NULL, kind TEXT NOT NULL, "
    "source TEXT NOT NULL, api_url TEXT, row_count INTEGER NOT NULL)"
)


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
        tables: API tables by three-part name; a keyed one (droplet_backups needs droplet_id)
            is read for every key its spec `values_from` table lists, as `sync` reads it.
        queries: (table name, SQL) pairs; the name must be a plain identifier.
        now: the time to record (default: now, UTC).

    Returns:
        One `Exported` per table written, in the order given.

    Raises:
        InterfaceError: nothing to export, or a name is reused or not a plain identifier.
        ProgrammingError: an unknown table, or SQL that returns no rows.
        OperationalError: the file cannot be written (nothing in it changed).
    """
    sources = _sources(connection, tables, queries)
    results = [_read(connection, source) for source in sources]
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(datetime.timezone.utc)
    try:
        _write(Path(path), results, stamp.isoformat(timespec="seconds"), safe_url(connection))
    except sqlite3.Error as exc:
        raise OperationalError(f"cannot write {path}: {exc}; the file is unchanged") from exc
    return [Exported(r.table, r.kind, r.source, r.columns, len(r.rows)) for r in results]


def _sources(
    connection: Connection, tables: Sequence[str], queries: Sequence[tuple[str, str]]
) -> list[Source]:
    """The tables to write, checked, laid out as `sync` lays them out."""
    if not tables and not queries:
        raise InterfaceError("nothing to export: name at least one table or query")
    provider = connection.session.provider
    sources = [resource_source(provider, resolve(provider, name)) for name in tables]
    sources += [query_source(name, sql) for name, sql in queries]
    check_unique(sources, (LOG_TABLE,))
    return sources


def _read(connection: Connection, source: Source) -> _Result:
    cursor = connection.execute(source.sql)
    if cursor.description is None:
        raise ProgrammingError(
            f"the SQL for {source.table!r} returns no rows to export: {source.sql}"
        )
    rows = cursor.fetchall()
    laid_out = with_result_columns(source, cursor.description, rows)
    kind = "table" if source.origin != "query" else "query"
    recorded = source.origin if kind == "table" else source.sql
    columns = tuple((c.name, c.type) for c in laid_out.columns)
    return _Result(source.table, kind, recorded, columns, rows)


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
