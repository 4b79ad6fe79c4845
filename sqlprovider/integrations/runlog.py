"""The file's own record of syncs: `sqlprovider_syncs` (every run) and `sqlprovider_tables`.

`sqlprovider_syncs` has one row per run, failed ones included: when it started (ISO 8601
UTC), the tables, rows added/changed/removed, API requests, duration and the error (NULL when it
succeeded). A dashboard can show "data as of" and alert on failures from it alone.
`sqlprovider_tables` documents each synced table: its three-part origin, the SQL that fills it,
its description and key, and when it was last synced. Never the token. Imports `errors` and the
sibling `layout`/`history`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from sqlprovider.integrations.history import Changes
from sqlprovider.integrations.layout import Source

LOG_TABLE = "sqlprovider_syncs"
TABLES_TABLE = "sqlprovider_tables"
#: Names a source may not take.
RESERVED = (LOG_TABLE, TABLES_TABLE)

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} ("
    "id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, tables TEXT NOT NULL, "
    "rows_added INTEGER, rows_changed INTEGER, rows_removed INTEGER, "
    "requests INTEGER, duration_seconds REAL, api_url TEXT, error TEXT)",
    f"CREATE TABLE IF NOT EXISTS {TABLES_TABLE} ("
    "table_name TEXT PRIMARY KEY, origin TEXT NOT NULL, sql TEXT NOT NULL, "
    "description TEXT, primary_key TEXT, last_synced_at TEXT NOT NULL)",
)


@dataclass(frozen=True)
class Run:
    """One run as logged."""

    started_at: str
    tables: tuple[str, ...]
    changes: tuple[Changes, ...]
    requests: int
    duration_seconds: float
    api_url: str | None
    error: str | None = None


def ensure(db: sqlite3.Connection) -> None:
    """Create the log tables if the file has none."""
    for statement in _SCHEMA:
        db.execute(statement)


def last_stamp(db: sqlite3.Connection) -> str | None:
    """When the latest run started (None for a new file)."""
    try:
        row = db.execute(f"SELECT max(started_at) FROM {LOG_TABLE}").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row and row[0] is not None else None


def record(db: sqlite3.Connection, run: Run) -> None:
    """Append `run` to the log (in the caller's transaction)."""
    ensure(db)
    detail = {
        c.table: {"rows": c.rows, "added": c.added, "changed": c.changed, "removed": c.removed}
        for c in run.changes
    }
    tables = detail if detail else {name: None for name in run.tables}
    failed = run.error is not None
    db.execute(
        f"INSERT INTO {LOG_TABLE} (started_at, tables, rows_added, rows_changed, rows_removed, "
        "requests, duration_seconds, api_url, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.started_at,
            json.dumps(tables),
            None if failed else sum(c.added for c in run.changes),
            None if failed else sum(c.changed for c in run.changes),
            None if failed else sum(c.removed for c in run.changes),
            run.requests,
            round(run.duration_seconds, 3),
            run.api_url,
            run.error,
        ),
    )


def describe(db: sqlite3.Connection, sources: Sequence[Source], stamp: str) -> None:
    """Record what each synced table is (in the caller's transaction)."""
    ensure(db)
    db.executemany(
        f"INSERT OR REPLACE INTO {TABLES_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
        [
            (s.table, s.origin, s.sql, s.description, ", ".join(s.key) or None, stamp)
            for s in sources
        ],
    )
