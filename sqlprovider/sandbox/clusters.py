"""Seeded generation of database clusters and of their backups, shaped like the official API.

Owns what a `database_cluster_read` object and a `database_backups` body look like in the
sandbox: engines cycle through a fixed order so even six clusters cover every case (backups with
`incremental` for mysql only, caching engines without backups). Imports nothing from sqlprovider.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from . import catalog as cat
from .records import DAY, iso


def new_uuid(rng: random.Random) -> str:
    """Draw a version-4 UUID string from `rng` (repeatable, unlike `uuid.uuid4`)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_cluster(rng: random.Random, index: int, now: int, vpcs: dict[str, str]) -> dict[str, Any]:
    """Generate cluster number `index` (the engine cycles through `ENGINE_ORDER`)."""
    engine = cat.ENGINE_ORDER[index % len(cat.ENGINE_ORDER)]
    versions, port = cat.ENGINES[engine]
    version = versions[rng.randrange(len(versions))]
    region = cat.REGULAR_REGIONS[rng.randrange(len(cat.REGULAR_REGIONS))]
    purpose = ("main", "app", "events", "cache", "reports")[index % 5]
    name = f"{engine}-{purpose}-{index + 1:02d}"
    host = f"{name}-do-user-{rng.randrange(10**6, 10**7)}-0.db.ondigitalocean.com"
    password = f"{rng.getrandbits(64):016x}"
    database = {"pg": "defaultdb", "mysql": "defaultdb", "mongodb": "admin"}.get(engine, "")
    scheme = {"pg": "postgresql", "mysql": "mysql", "mongodb": "mongodb+srv"}.get(
        engine, "rediss" if engine in cat.CACHING_ENGINES else "https"
    )

    def connection(prefix: str) -> dict[str, Any]:
        uri = f"{scheme}://doadmin:{password}@{prefix}{host}:{port}/{database}"
        return {
            "uri": uri,
            "database": database,
            "host": prefix + host,
            "port": port,
            "user": "doadmin",
            "password": password,
            "ssl": True,
        }

    mask = rng.getrandbits(3)
    tags = [t for bit, t in enumerate(cat.CLUSTER_TAGS) if mask >> bit & 1]
    return {
        "id": new_uuid(rng),
        "name": name,
        "engine": engine,
        "version": version,
        "semantic_version": cat.SEMVER[version],
        "num_nodes": 1 + rng.randrange(3),
        "size": cat.DB_SIZES[rng.randrange(len(cat.DB_SIZES))],
        "region": region,
        "status": "online" if rng.random() < 0.9 else "resizing",
        "created_at": iso(now - rng.randrange(30 * DAY, 700 * DAY)),
        "private_network_uuid": vpcs[region],
        "tags": tags or None,  # the API sends null, not [], for an untagged cluster
        "db_names": [database] if database else None,
        "connection": connection(""),
        "private_connection": connection("private-"),
        "users": [{"name": "doadmin", "role": "primary", "password": password}],
        "maintenance_window": {
            "day": ("sunday", "monday", "tuesday", "saturday")[rng.randrange(4)],
            "hour": f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00",
            "pending": False,
            "description": [],
        },
        "project_id": new_uuid(rng),
        "storage_size_mib": 10_240 * (1 + rng.randrange(6)),
    }


def make_db_backups(rng: random.Random, cluster: dict[str, Any], now: int) -> dict[str, Any]:
    """Generate the `database_backups` body of a cluster (empty for engines without backups)."""
    engine = cluster["engine"]
    if engine in cat.CACHING_ENGINES or engine in cat.ENGINES_WITHOUT_BACKUPS:
        return {"backups": []}
    hour, minute = rng.randrange(24), rng.randrange(60)
    today = now - now % DAY + hour * 3600 + minute * 60
    newest = today if today <= now else today - DAY
    count = 1 + rng.randrange(7)
    backups = []
    for k in range(count):
        item: dict[str, Any] = {
            "created_at": iso(newest - (count - 1 - k) * DAY + rng.randrange(5, 120)),
            "size_gigabytes": round(rng.uniform(0.01, 4.0), 8),
        }
        if engine == "mysql":
            item["incremental"] = k % 4 != 0
        backups.append(item)
    out: dict[str, Any] = {
        "backups": backups,
        "scheduled_backup_time": {
            "backup_hour": hour,
            "backup_minute": minute,
            "backup_interval_hours": 24,
        },
    }
    if rng.random() < 0.34:
        out["backup_progress"] = str(rng.randint(1, 99))
    return out
