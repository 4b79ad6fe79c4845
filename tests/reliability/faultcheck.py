"""Run a query under faults and judge the outcome: exactly the fault-free rows, or a clear error.

Used by the fault tests; the stress script (benchmarks/stress_faults.py) applies the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlprovider
from sqlprovider.sandbox import Sandbox

from .helpers import BACKUPS, CLUSTERS, DB_BACKUPS, DROPLETS, POLICIES, connect_to

#: Queries that paginate (small per_page) or join a keyed table, so faults land mid-read.
QUERIES: dict[str, str] = {
    "droplets": f"SELECT id, name, status, type FROM {DROPLETS} WHERE per_page = 5",
    "policies": (
        f"SELECT droplet_id, backup_enabled, backup_policy_plan FROM {POLICIES} WHERE per_page = 5"
    ),
    "policy_backups": (
        f"SELECT p.droplet_id, b.id, b.created_at FROM {POLICIES} p "
        f"JOIN {BACKUPS} b ON b.droplet_id = p.droplet_id "
        "WHERE p.backup_enabled AND p.per_page = 7 AND b.per_page = 2"
    ),
    "cluster_backups": (
        f"SELECT c.id, b.created_at, b.size_gigabytes FROM {CLUSTERS} c "
        f"JOIN {DB_BACKUPS} b ON b.database_cluster_uuid = c.id "
        "WHERE c.engine NOT IN ('redis', 'valkey')"
    ),
}

#: A clear error names the request or table that failed.
NAMES_WHAT_FAILED = re.compile(r"GET /v2/\S+|digitalocean\.\w+\.\w+")


@dataclass(frozen=True)
class Outcome:
    """Sorted rows of a successful run, or the error of a failed one."""

    rows: list[tuple[Any, ...]] | None
    error: sqlprovider.Error | None


def run(sb: Sandbox, sql: str, **options: Any) -> Outcome:
    """Run `sql` on a fresh connection (no cache); any non-sqlprovider exception propagates."""
    settings = {"timeout": 1.0, "backoff": 0.01, "retries": 3, **options}
    con = connect_to(sb, **settings)
    try:
        return Outcome(sorted(con.execute(sql).fetchall(), key=repr), None)
    except sqlprovider.Error as exc:
        return Outcome(None, exc)
    finally:
        con.close()


def problem(outcome: Outcome, expected: list[tuple[Any, ...]]) -> str | None:
    """Why `outcome` is wrong (a subset, duplicates, other rows, an unclear error), or None."""
    if outcome.error is not None:
        if not NAMES_WHAT_FAILED.search(str(outcome.error)):
            return f"error does not say what failed: {outcome.error!r}"
        return None
    rows = outcome.rows or []
    if rows == expected:
        return None
    missing = len([r for r in expected if r not in rows])
    extra = len(rows) - len(expected) + missing
    return f"wrong rows: {len(rows)} instead of {len(expected)} ({missing} missing, {extra} extra)"
