"""The differential oracle's side: plain SQLite tables filled from the API's raw JSON.

Everything here is independent of sqlprovider: the pages are read with `requests`, and the
rows are built by hand from the documented column semantics (nested scalars flattened with
`_`, booleans 0/1, arrays and objects as compact JSON text, absent values NULL, one policy row
per Droplet, backups keyed by the Droplet or cluster they belong to, the hidden `type` of a
Droplet being `droplets` or `gpus`). A query run here and through sqlprovider must agree.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

#: Column name -> kind, per table; the kinds drive both the plain table and the query generator.
SCHEMA: dict[str, dict[str, str]] = {
    "digitalocean.compute.droplets": {
        "id": "integer",
        "name": "text",
        "status": "text",
        "region": "text",
        "size_slug": "text",
        "memory": "integer",
        "vcpus": "integer",
        "disk": "integer",
        "locked": "boolean",
        "created_at": "text",
        "image": "text",
        "features": "json",
        "backup_ids": "json",
        "snapshot_ids": "json",
        "tags": "json",
        "vpc_uuid": "text",
        "next_backup_window_start": "text",
        "next_backup_window_end": "text",
        "type": "text",
    },
    "digitalocean.compute.droplet_backups": {
        "droplet_id": "integer",
        "id": "integer",
        "name": "text",
        "created_at": "text",
        "min_disk_size": "integer",
        "regions": "json",
        "size_gigabytes": "real",
        "type": "text",
    },
    "digitalocean.compute.droplet_backup_policies": {
        "droplet_id": "integer",
        "backup_enabled": "boolean",
        "backup_policy": "json",
        "backup_policy_plan": "text",
        "backup_policy_weekday": "text",
        "backup_policy_hour": "integer",
        "backup_policy_window_length_hours": "integer",
        "backup_policy_retention_period_days": "integer",
        "next_backup_window_start": "text",
        "next_backup_window_end": "text",
    },
    "digitalocean.compute.droplet_supported_backup_policies": {
        "name": "text",
        "possible_days": "json",
        "possible_window_starts": "json",
        "window_length_hours": "integer",
        "retention_period_days": "integer",
    },
    "digitalocean.databases.clusters": {
        "id": "text",
        "name": "text",
        "engine": "text",
        "version": "text",
        "region": "text",
        "status": "text",
        "num_nodes": "integer",
        "size": "text",
        "storage_size_mib": "integer",
        "created_at": "text",
        "tags": "json",
        "project_id": "text",
    },
    "digitalocean.databases.backups": {
        "database_cluster_uuid": "text",
        "created_at": "text",
        "size_gigabytes": "real",
        "incremental": "boolean",
        "backup_progress": "text",
        "scheduled_backup_time_backup_hour": "integer",
        "scheduled_backup_time_backup_minute": "integer",
        "scheduled_backup_time_backup_interval_hours": "integer",
    },
}

#: The declared SQLite types (they decide comparison affinity, as on the virtual tables).
DECLARED = {
    "integer": "INTEGER",
    "real": "REAL",
    "text": "TEXT",
    "boolean": "BOOLEAN",
    "json": "JSON",
}


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return _json(value)
    return value


def _at(record: Any, *path: str) -> Any:
    for step in path:
        if not isinstance(record, dict):
            return None
        record = record.get(step)
    return record


@dataclass
class Snapshot:
    """The plain-table copy of an account, and the values seen per column (for literals)."""

    db: sqlite3.Connection
    values: dict[tuple[str, str], list[Any]]

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.db.execute(sql).fetchall()]


class _Reader:
    """GETs pages of the API with `requests` (no sqlprovider involved)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base_url + path, params=params, timeout=10)

    def pages(self, path: str, key: str, **params: Any) -> Iterator[Any]:
        page = 1
        while True:
            body = self.get(path, page=page, per_page=200, **params).json()
            items = body[key]
            yield from items.values() if isinstance(items, dict) else items
            if "next" not in body.get("links", {}).get("pages", {}):
                return
            page += 1


def load(base_url: str, token: str) -> Snapshot:
    """Read the whole account and return it as plain SQLite tables."""
    reader = _Reader(base_url, token)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMA}
    for kind, params in (("droplets", {}), ("gpus", {"type": "gpus"})):
        for d in reader.pages("/v2/droplets", "droplets", **params):
            window = d.get("next_backup_window")
            rows["digitalocean.compute.droplets"].append(
                {
                    **{k: _scalar(d.get(k)) for k in ("id", "name", "status", "size_slug")},
                    **{k: _scalar(d.get(k)) for k in ("memory", "vcpus", "disk", "locked")},
                    "region": _at(d, "region", "slug"),
                    "created_at": d.get("created_at"),
                    "image": _at(d, "image", "slug"),
                    **{k: _json(d.get(k)) for k in ("features", "backup_ids", "snapshot_ids")},
                    "tags": _json(d.get("tags")),
                    "vpc_uuid": d.get("vpc_uuid"),
                    "next_backup_window_start": _at(window, "start"),
                    "next_backup_window_end": _at(window, "end"),
                    "type": kind,
                }
            )
    for p in reader.pages("/v2/droplets/backups/policies", "policies"):
        policy = p.get("backup_policy")
        rows["digitalocean.compute.droplet_backup_policies"].append(
            {
                "droplet_id": p["droplet_id"],
                "backup_enabled": _scalar(p.get("backup_enabled")),
                "backup_policy": _json(policy),
                "backup_policy_plan": _at(policy, "plan"),
                "backup_policy_weekday": _at(policy, "weekday"),
                "backup_policy_hour": _at(policy, "hour"),
                "backup_policy_window_length_hours": _at(policy, "window_length_hours"),
                "backup_policy_retention_period_days": _at(policy, "retention_period_days"),
                "next_backup_window_start": _at(p, "next_backup_window", "start"),
                "next_backup_window_end": _at(p, "next_backup_window", "end"),
            }
        )
    for droplet in rows["digitalocean.compute.droplets"]:
        path = f"/v2/droplets/{droplet['id']}/backups"
        for b in reader.pages(path, "backups"):
            rows["digitalocean.compute.droplet_backups"].append(
                {
                    "droplet_id": droplet["id"],
                    **{k: _scalar(b.get(k)) for k in ("id", "name", "created_at", "type")},
                    "min_disk_size": b.get("min_disk_size"),
                    "regions": _json(b.get("regions")),
                    "size_gigabytes": b.get("size_gigabytes"),
                }
            )
    supported = reader.get("/v2/droplets/backups/supported_policies").json()
    for s in supported["supported_policies"]:
        rows["digitalocean.compute.droplet_supported_backup_policies"].append(
            {
                "name": s["name"],
                "possible_days": _json(s.get("possible_days")),
                "possible_window_starts": _json(s.get("possible_window_starts")),
                "window_length_hours": s.get("window_length_hours"),
                "retention_period_days": s.get("retention_period_days"),
            }
        )
    for c in reader.get("/v2/databases").json()["databases"]:
        rows["digitalocean.databases.clusters"].append(
            {name: _scalar(c.get(name)) for name in SCHEMA["digitalocean.databases.clusters"]}
        )
        response = reader.get(f"/v2/databases/{c['id']}/backups")
        if response.status_code == 422:  # redis and valkey clusters have no backups
            continue
        body = response.json()
        schedule = body.get("scheduled_backup_time")
        for b in body["backups"]:
            rows["digitalocean.databases.backups"].append(
                {
                    "database_cluster_uuid": c["id"],
                    "created_at": b.get("created_at"),
                    "size_gigabytes": b.get("size_gigabytes"),
                    "incremental": _scalar(b.get("incremental")),
                    "backup_progress": body.get("backup_progress"),
                    "scheduled_backup_time_backup_hour": _at(schedule, "backup_hour"),
                    "scheduled_backup_time_backup_minute": _at(schedule, "backup_minute"),
                    "scheduled_backup_time_backup_interval_hours": _at(
                        schedule, "backup_interval_hours"
                    ),
                }
            )
    return _build(rows)


def _build(rows: dict[str, list[dict[str, Any]]]) -> Snapshot:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    values: dict[tuple[str, str], list[Any]] = {}
    for table, columns in SCHEMA.items():
        declared = ", ".join(f'"{c}" {DECLARED[kind]}' for c, kind in columns.items())
        db.execute(f'CREATE TABLE "{table}" ({declared})')
        names = list(columns)
        marks = ", ".join("?" for _ in names)
        db.executemany(
            f'INSERT INTO "{table}" VALUES ({marks})',
            [tuple(row.get(n) for n in names) for row in rows[table]],
        )
        for name in names:
            seen = sorted({row.get(name) for row in rows[table]}, key=repr)
            values[(table, name)] = seen
    db.commit()
    return Snapshot(db, values)
