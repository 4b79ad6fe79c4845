"""Datasette's metadata for a synced file: described tables and columns, and canned queries.

`datasette estate.db -m estate.metadata.json` then opens a site where every table says what it
holds and where it comes from (its three-part API table), every column carries the spec's
description, and the sidebar offers canned queries: the spec's recipes that only read synced
tables (`sqlprovider_recipes`, rewritten to the file's names, `:name` parameters as form fields)
and a few of our own over the history. Imports `dbapi`, `spec` and the sibling modules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlprovider.dbapi import Connection
from sqlprovider.errors import Error
from sqlprovider.integrations.history import SYNCED_AT, VALID_FROM, VALID_TO, history_name
from sqlprovider.integrations.layout import Source, resource_source
from sqlprovider.integrations.runlog import LOG_TABLE, TABLES_TABLE

#: Our own canned queries: (name, title, SQL). Each is offered only when its tables are synced.
CANNED: tuple[tuple[str, str, str], ...] = (
    (
        "backups_enabled_per_day",
        "Droplets with backups enabled, per day",
        "WITH RECURSIVE days(day) AS (\n"
        "  SELECT date(min(valid_from)) FROM digitalocean_compute_droplet_backup_policies_history\n"
        "  UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < date('now')\n"
        ")\n"
        "SELECT day, count(h.droplet_id) AS droplets_with_backups\n"
        "FROM days LEFT JOIN digitalocean_compute_droplet_backup_policies_history h\n"
        "  ON h.backup_enabled AND h.valid_from < date(day, '+1 day')\n"
        "  AND (h.valid_to IS NULL OR h.valid_to >= date(day, '+1 day'))\n"
        "GROUP BY day ORDER BY day",
    ),
    (
        "droplets_without_backups",
        "Droplets whose backups are off",
        "SELECT d.id, d.name, d.region, d.size_slug\n"
        "FROM digitalocean_compute_droplets d\n"
        "JOIN digitalocean_compute_droplet_backup_policies p ON p.droplet_id = d.id\n"
        "WHERE NOT p.backup_enabled ORDER BY d.name",
    ),
    (
        "newest_backup_per_droplet",
        "Newest backup of every Droplet",
        "SELECT d.id, d.name, count(b.id) AS backups, max(b.created_at) AS newest\n"
        "FROM digitalocean_compute_droplets d\n"
        "LEFT JOIN digitalocean_compute_droplet_backups b ON b.droplet_id = d.id\n"
        "GROUP BY d.id ORDER BY newest",
    ),
    (
        "recent_syncs",
        "Recent syncs and their errors",
        f"SELECT started_at, rows_added, rows_changed, rows_removed, requests, "
        f"duration_seconds, error FROM {LOG_TABLE} ORDER BY id DESC LIMIT 50",
    ),
)


def metadata(connection: Connection, sources: Sequence[Source], database: str) -> dict[str, Any]:
    """Datasette's metadata (as a dict) for the file `database` holding `sources`."""
    provider = connection.session.provider
    tables: dict[str, Any] = {}
    for source in sources:
        columns = {c.name: c.description for c in source.columns if c.description}
        columns[SYNCED_AT] = "When the sync that wrote this row ran (ISO 8601, UTC)."
        origin = (
            f"From the API table {source.origin}."
            if source.origin != "query"
            else f"From the query: {source.sql}"
        )
        key = f" One row per {', '.join(source.key)}." if source.key else ""
        tables[source.table] = {
            "description": f"{source.description} {origin}{key}",
            "columns": columns,
        }
        tables[history_name(source.table)] = {
            "description": (
                f"Every version of the rows of {source.table}: a version is valid from "
                f"{VALID_FROM} until {VALID_TO} (NULL: still current). Written only when a row "
                "is added, changed or removed."
            ),
            "columns": {
                **{c.name: c.description for c in source.columns if c.description},
                VALID_FROM: "When this version was first synced (ISO 8601, UTC).",
                VALID_TO: "When a sync first saw it changed or gone (NULL while current).",
            },
        }
    tables[LOG_TABLE] = {
        "description": "One row per sync run: rows added, changed, removed, requests, error."
    }
    tables[TABLES_TABLE] = {"description": "What each synced table is and where it comes from."}
    synced = {s.table for s in sources} | {LOG_TABLE}
    queries = {
        name: {"title": title, "sql": sql}
        for name, title, sql in CANNED
        if _reads_only(sql, synced)
    }
    queries.update(_recipes(connection, synced))
    return {
        "title": f"{provider.name} estate",
        "description": (
            f"{provider.description.strip()} Kept current by `sqlprovider sync`; each table "
            "has a _history table of its changes."
        ),
        "databases": {Path(database).stem: {"tables": tables, "queries": queries}},
    }


def write_metadata(
    connection: Connection, sources: Sequence[Source], database: str | Path, target: str | Path
) -> Path:
    """Write `metadata(...)` as JSON to `target` for `sources` and every other table earlier
    syncs left in the file (from `sqlprovider_tables`); return its path."""
    path = Path(target)
    document = metadata(
        connection, [*sources, *_earlier(connection, sources, database)], str(database)
    )
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def _earlier(
    connection: Connection, sources: Sequence[Source], database: str | Path
) -> list[Source]:
    """Tables of the file that `sources` does not name, as the spec (or their query) has them."""
    import sqlite3

    if not Path(database).exists():
        return []
    db = sqlite3.connect(f"file:{Path(database)}?mode=ro", uri=True)
    try:
        rows = db.execute(
            f"SELECT table_name, origin, sql, description FROM {TABLES_TABLE}"
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        db.close()
    provider = connection.session.provider
    named = {s.table for s in sources}
    found = []
    for table, origin, sql, description in rows:
        if table in named:
            continue
        try:
            found.append(resource_source(provider, provider.resource(origin)))
        except (KeyError, Error):
            found.append(Source(table, "query", sql, description or ""))
    return found


def _recipes(connection: Connection, synced: set[str]) -> dict[str, Any]:
    """The spec's recipes (`sqlprovider_recipes`) that read only synced tables, rewritten to
    the file's names; their `:name` parameters become Datasette's query form fields."""
    import re

    try:
        rows = connection.execute(
            "SELECT name, title, question, parameters, sql FROM sqlprovider_recipes"
        ).fetchall()
    except Error:
        return {}  # a spec without recipes
    names = sorted(
        (r.qualified_name for r in connection.session.provider.resources()), key=len, reverse=True
    )
    pattern = re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)
    found: dict[str, Any] = {}
    for name, title, question, parameters, sql in rows:
        local = pattern.sub(lambda m: m.group(0).lower().replace(".", "_"), str(sql))
        if not _reads_only(local, synced):
            continue
        defaults = json.loads(parameters) if parameters else {}
        hint = ", ".join(f"{k} (default {v.get('default')})" for k, v in defaults.items())
        found[str(name)] = {
            "title": str(title),
            "description": str(question) + (f" Parameters: {hint}." if hint else ""),
            "sql": local,
        }
    return found


def _reads_only(sql: str, tables: set[str]) -> bool:
    """Whether every table `sql` names (history tables count as their table) is in `tables`."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="sqlite")
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name = table.name
        if name in ctes:
            continue
        base = name[: -len("_history")] if name.endswith("_history") else name
        if base not in tables:
            return False
    return True
