"""Replace a table's rows in the file and keep its history: what changed since the last sync.

Each synced table `T` has its current rows (the `Source` columns plus `_synced_at`, primary key
from the resource's identity) and `T_history`: the same columns plus `valid_from` and `valid_to`
(ISO 8601 UTC; `valid_to` NULL for the version that is current). Rows are matched by key: a new
key is *added* (a history version opens), a key whose values differ is *changed* (its version
closes, a new one opens), a key no longer listed is *removed* (its version closes). Unchanged
rows write no history, so a file synced every 15 minutes grows only with real changes. A table
without a known key (a query) matches whole rows instead. Everything happens in the caller's
transaction. Imports `errors` and the sibling `layout`.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlprovider.errors import DataError, OperationalError
from sqlprovider.integrations.layout import Source, quote

SYNCED_AT = "_synced_at"
VALID_FROM = "valid_from"
VALID_TO = "valid_to"


@dataclass(frozen=True)
class Changes:
    """What one sync did to one table."""

    table: str
    rows: int
    added: int
    changed: int
    removed: int


def history_name(table: str) -> str:
    """The history table of `table`."""
    return f"{table}_history"


def apply(
    db: sqlite3.Connection, source: Source, rows: Sequence[tuple[Any, ...]], stamp: str
) -> Changes:
    """Make `source.table` hold `rows` as of `stamp`, and record the difference in its history.

    Raises:
        DataError: two rows share a key (the API answered one record twice).
        OperationalError: the file's table was not written by sync, or has another key.
    """
    _ensure_tables(db, source)
    names = [c.name for c in source.columns]
    table = quote(source.table)
    listed = ", ".join(quote(n) for n in names)
    previous = db.execute(f"SELECT {listed} FROM {table}").fetchall()
    if source.key:
        counts = _diff_keyed(db, source, names, previous, rows, stamp)
    else:
        counts = _diff_whole(db, source, names, previous, rows, stamp)
    db.execute(f"DELETE FROM {table}")
    marks = ", ".join("?" for _ in range(len(names) + 1))
    db.executemany(
        f"INSERT INTO {table} ({listed}, {SYNCED_AT}) VALUES ({marks})",
        [(*row, stamp) for row in rows],
    )
    return Changes(source.table, len(rows), *counts)


def _diff_keyed(
    db: sqlite3.Connection,
    source: Source,
    names: list[str],
    previous: list[tuple[Any, ...]],
    rows: Sequence[tuple[Any, ...]],
    stamp: str,
) -> tuple[int, int, int]:
    positions = [names.index(k) for k in source.key]
    old = {tuple(row[i] for i in positions): tuple(row) for row in previous}
    new: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        key = tuple(row[i] for i in positions)
        if key in new:
            raise DataError(
                f"{source.origin}: two records have the key "
                f"{dict(zip(source.key, key, strict=True))}; the API answered one record twice, "
                "so the sync stops rather than keep either. Run it again."
            )
        new[key] = row
    added = [row for key, row in new.items() if key not in old]
    changed = [row for key, row in new.items() if key in old and old[key] != tuple(row)]
    removed = [key for key in old if key not in new]
    history = quote(history_name(source.table))
    match = " AND ".join(f"{quote(k)} = ?" for k in source.key)
    closing = [tuple(row[i] for i in positions) for row in changed] + removed
    db.executemany(
        f"UPDATE {history} SET {VALID_TO} = ? WHERE {match} AND {VALID_TO} IS NULL",
        [(stamp, *key) for key in closing],
    )
    _open_versions(db, source, names, added + changed, stamp)
    return len(added), len(changed), len(removed)


def _diff_whole(
    db: sqlite3.Connection,
    source: Source,
    names: list[str],
    previous: list[tuple[Any, ...]],
    rows: Sequence[tuple[Any, ...]],
    stamp: str,
) -> tuple[int, int, int]:
    """Without a key a row is its values: gone ones close a version, new ones open one."""
    old, new = Counter(map(tuple, previous)), Counter(map(tuple, rows))
    gone, came = old - new, new - old
    history = quote(history_name(source.table))
    same = " AND ".join(f"{quote(n)} IS ?" for n in names)
    for row, times in gone.items():
        db.execute(
            f"UPDATE {history} SET {VALID_TO} = ? WHERE rowid IN (SELECT rowid FROM {history} "
            f"WHERE {VALID_TO} IS NULL AND {same} LIMIT ?)",
            (stamp, *row, times),
        )
    _open_versions(db, source, names, list(came.elements()), stamp)
    return sum(came.values()), 0, sum(gone.values())


def _open_versions(
    db: sqlite3.Connection,
    source: Source,
    names: list[str],
    rows: list[tuple[Any, ...]],
    stamp: str,
) -> None:
    listed = ", ".join(quote(n) for n in names)
    marks = ", ".join("?" for _ in range(len(names) + 1))
    db.executemany(
        f"INSERT INTO {quote(history_name(source.table))} ({listed}, {VALID_FROM}) "
        f"VALUES ({marks})",
        [(*row, stamp) for row in rows],
    )


def _ensure_tables(db: sqlite3.Connection, source: Source) -> None:
    """Create the table and its history, or add columns the spec gained since the last sync."""
    table, history = source.table, history_name(source.table)
    existing = _columns(db, table)
    if not existing:
        _create(db, source)
        return
    if SYNCED_AT not in existing:
        raise OperationalError(
            f"the table {table} in this file was not written by sync (it has no {SYNCED_AT}; "
            "export writes such tables); sync into another file or drop the table"
        )
    key = tuple(
        name
        for _, name, *_, pk in sorted(
            db.execute(f"PRAGMA table_info({quote(table)})").fetchall(), key=lambda r: r[-1]
        )
        if pk
    )
    if key != source.key:
        raise OperationalError(
            f"the table {table} in this file has the key ({', '.join(key) or 'none'}) but the "
            f"spec now says ({', '.join(source.key) or 'none'}); sync into another file, or "
            "rename the old table to keep its history"
        )
    history_columns = _columns(db, history)
    for column in source.columns:
        for name, present in ((table, existing), (history, history_columns)):
            if column.name not in present:
                db.execute(
                    f"ALTER TABLE {quote(name)} ADD COLUMN {quote(column.name)} {column.type}"
                )


def _create(db: sqlite3.Connection, source: Source) -> None:
    declared = [f"{quote(c.name)} {c.type}".rstrip() for c in source.columns]
    key = ", ".join(quote(k) for k in source.key)
    current = [*declared, f"{SYNCED_AT} TEXT NOT NULL"]
    if key:
        current.append(f"PRIMARY KEY ({key})")
    db.execute(f"CREATE TABLE {quote(source.table)} ({', '.join(current)})")
    past = [*declared, f"{VALID_FROM} TEXT NOT NULL", f"{VALID_TO} TEXT"]
    if key:
        past.append(f"PRIMARY KEY ({key}, {VALID_FROM})")
    history = history_name(source.table)
    db.execute(f"CREATE TABLE {quote(history)} ({', '.join(past)})")
    db.execute(
        f"CREATE INDEX {quote(history + '_current')} ON {quote(history)} "
        f"({key + ', ' if key else ''}{VALID_TO})"
    )


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({quote(table)})").fetchall()}
