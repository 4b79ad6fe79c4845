"""Keep a SQLite file current with the API: typed tables, their history, and a log of runs.

`sync` reads every source first (the API calls, paced by the connection's rate limiter), then
writes all of it in one transaction: a reader of the file (another process, WAL mode) sees the
previous sync or this one, never a mix. A run that fails, reading or writing, leaves the
previous data in place and is logged in `sqlprovider_syncs` with its error. `history` keeps
`<table>_history`; `runlog` the log; `layout` decides the tables. `export` is the one-shot form
of the same layout: a snapshot without history. Imports `dbapi`, `errors` and its siblings.

    with sqlprovider.connect() as connection:
        report = sync(connection, "estate.db")   # every list table and the keyed ones they reach
        print(report.changes)
"""

from __future__ import annotations

import datetime
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlprovider.dbapi import Connection
from sqlprovider.errors import Error, OperationalError
from sqlprovider.integrations import runlog
from sqlprovider.integrations.history import Changes, apply
from sqlprovider.integrations.layout import (
    Source,
    check_unique,
    default_resources,
    query_source,
    resolve,
    resource_source,
    with_result_columns,
)


@dataclass(frozen=True)
class SyncReport:
    """What one successful run did."""

    started_at: str
    changes: tuple[Changes, ...]
    requests: int
    duration_seconds: float

    @property
    def history_rows(self) -> int:
        """History versions opened by this run (added plus changed rows)."""
        return sum(c.added + c.changed for c in self.changes)


def plan_sources(
    connection: Connection, tables: Sequence[str] = (), queries: Sequence[tuple[str, str]] = ()
) -> list[Source]:
    """The tables a run writes: those named, else the default set, plus the queries.

    Raises:
        ProgrammingError: an unknown table, or a keyed one no list table supplies keys for.
        InterfaceError: a query name that is not a plain identifier, or a name used twice.
    """
    provider = connection.session.provider
    if tables:
        resources = [resolve(provider, name) for name in tables]
    elif queries:
        resources = []
    else:
        resources = default_resources(provider)
    sources = [resource_source(provider, r) for r in resources]
    sources += [query_source(name, sql) for name, sql in queries]
    check_unique(sources, runlog.RESERVED)
    return sources


def sync(
    connection: Connection,
    path: str | Path,
    *,
    tables: Sequence[str] = (),
    queries: Sequence[tuple[str, str]] = (),
    now: datetime.datetime | None = None,
) -> SyncReport:
    """Bring the file at `path` up to date with the API, keeping history of what changed.

    Args:
        connection: where the data is read.
        path: the SQLite file, created if missing (and switched to WAL mode).
        tables: API tables by three-part name (keyed ones are read for every key their
            `values_from` table lists); default: every list table and the keyed tables they
            reach.
        queries: (table name, SQL) pairs written as tables too (history matches whole rows).
        now: the time to record (default: now, UTC).

    Returns:
        The counts of what changed, per table.

    Raises:
        Error: the run failed (API, SQL or file); it is logged and the file keeps its previous
            data.
    """
    sources = plan_sources(connection, tables, queries)
    db = _open(Path(path))
    try:
        return _run(connection, db, sources, now)
    finally:
        db.close()


def _run(
    connection: Connection,
    db: sqlite3.Connection,
    sources: list[Source],
    now: datetime.datetime | None,
) -> SyncReport:
    started = time.monotonic()
    stamp = _stamp(now, runlog.last_stamp(db))
    api_url = safe_url(connection)
    requests = 0
    read: list[tuple[Source, list[tuple[Any, ...]]]] = []

    def failed(exc: BaseException) -> runlog.Run:
        return runlog.Run(
            stamp,
            tuple(s.table for s in sources),
            (),
            requests,
            time.monotonic() - started,
            api_url,
            f"{type(exc).__name__}: {exc}",
        )

    try:
        for source in sources:
            cursor = connection.execute(source.sql)
            try:
                rows = cursor.fetchall()
            finally:
                requests += int(cursor.stats.get("requests", 0))
            read.append((with_result_columns(source, cursor.description or (), rows), rows))
    except Error as exc:
        _log_failure(db, failed(exc))
        raise
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            changes = tuple(apply(db, source, rows, stamp) for source, rows in read)
            runlog.describe(db, [source for source, _ in read], stamp)
            report = SyncReport(stamp, changes, requests, time.monotonic() - started)
            runlog.record(
                db,
                runlog.Run(
                    stamp,
                    tuple(c.table for c in changes),
                    changes,
                    requests,
                    report.duration_seconds,
                    api_url,
                ),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        _log_failure(db, failed(exc))
        raise OperationalError(
            f"cannot write the sync into the file: {exc}; it keeps the previous sync"
        ) from exc
    except Error as exc:
        _log_failure(db, failed(exc))
        raise
    return report


def _open(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        # WAL: readers keep reading the previous sync while this one writes, and see the new
        # one whole once it commits.
        db.execute("PRAGMA journal_mode=WAL")
        runlog.ensure(db)
    except sqlite3.Error as exc:
        raise OperationalError(f"cannot open {path} for the sync: {exc}") from exc
    return db


def _log_failure(db: sqlite3.Connection, run: runlog.Run) -> None:
    """Record a failed run; a file that cannot even take the log row keeps its data anyway."""
    try:
        with db:
            runlog.record(db, run)
    except sqlite3.Error:
        pass  # the original error is what the caller sees; it says what went wrong


def _stamp(now: datetime.datetime | None, last: str | None) -> str:
    """This run's time, ISO 8601 UTC to the millisecond, always after the previous run's (two
    runs within one millisecond would otherwise give a row two versions of one moment)."""
    moment = (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(datetime.timezone.utc)
    text = _format(moment)
    if last is not None and text <= last:
        previous = datetime.datetime.fromisoformat(last.replace("Z", "+00:00"))
        text = _format(previous + datetime.timedelta(milliseconds=1))
    return text


def _format(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def safe_url(connection: Connection) -> str | None:
    """The connection's API base URL without any user, password, query or fragment."""
    url = str(connection.session.client.base_url or "")
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
