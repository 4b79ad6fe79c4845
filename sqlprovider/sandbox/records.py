"""Compact records of the emulated account and their rendering into API-shaped JSON objects.

A droplet is stored as a small mutable record (a few scalars) and only turned into the full
`droplet` object of the official schema when a response needs it; that keeps a 100,000-droplet
account cheap to build. Times are Unix epoch seconds inside, ISO 8601 `...Z` strings outside.
This module imports nothing from sqlprovider.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .catalog import (
    IMAGES,
    MAX_BACKUPS,
    PERIOD_SECONDS,
    REGIONS,
    RETENTION_DAYS,
    SIZES,
    WEEKDAYS,
    WINDOW_LENGTH_HOURS,
)

DAY = 86_400


def iso(epoch: int) -> str:
    """Format epoch seconds as the API does: `2024-09-13T20:00:00Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@dataclass(frozen=True)
class Policy:
    """A droplet's backup plan: `daily` or `weekly`, window start hour, weekday for weekly."""

    plan: str
    hour: int
    weekday: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Render as `droplet_backup_policy` (weekday only for weekly plans)."""
        out: dict[str, Any] = {"plan": self.plan}
        if self.weekday is not None:
            out["weekday"] = self.weekday
        out["hour"] = self.hour
        out["window_length_hours"] = WINDOW_LENGTH_HOURS
        out["retention_period_days"] = RETENTION_DAYS[self.plan]
        return out


def next_window_start(policy: Policy, now: int) -> int:
    """Return the start (epoch) of the first backup window of `policy` strictly after `now`."""
    day = now // DAY
    if policy.plan == "weekly":
        # 1970-01-01 was a Thursday, index 4 when Sunday is 0.
        target = WEEKDAYS.index(policy.weekday or "SUN")
        delta = (target - (day + 4) % 7) % 7
        start = (day + delta) * DAY + policy.hour * 3600
    else:
        start = day * DAY + policy.hour * 3600
    while start <= now:
        start += PERIOD_SECONDS[policy.plan]
    return start


def last_completed_window(policy: Policy, now: int) -> int:
    """Return the start of the latest backup window of `policy` that has fully ended by `now`."""
    period = PERIOD_SECONDS[policy.plan]
    start = next_window_start(policy, now) - period
    while start + WINDOW_LENGTH_HOURS * 3600 > now:
        start -= period
    return start


@dataclass
class DropletRecord:
    """The mutable state of one droplet; everything else is derived when rendering."""

    id: int
    name: str
    gpu: bool
    region: str
    size: str
    image: str
    status: str
    created: int
    tags: tuple[str, ...]
    policy: Policy | None
    backup_base: int  # id of the oldest backup; backups have consecutive ids
    backup_count: int
    backup_newest: int  # window start of the newest backup
    backup_period: int
    vpc_uuid: str

    def backup_ids(self) -> list[int]:
        """Return the ids of the droplet's backups, oldest first."""
        return list(range(self.backup_base, self.backup_base + self.backup_count))


def plan_backups(policy: Policy, created: int, now: int, wanted: int) -> tuple[int, int, int]:
    """Fit `wanted` backups to a policy: return (newest window start, period, count).

    The count is capped by the plan's maximum, by the windows completed since `created` and by
    the retention period (no backup is older than `retention_period_days`).
    """
    period = PERIOD_SECONDS[policy.plan]
    newest = last_completed_window(policy, now)
    possible = 0 if newest < created else (newest - created) // period + 1
    oldest_kept = now - RETENTION_DAYS[policy.plan] * DAY
    retained = 0 if newest < oldest_kept else (newest - oldest_kept) // period + 1
    return newest, period, max(0, min(wanted, MAX_BACKUPS[policy.plan], possible, retained))


@lru_cache(maxsize=1024)
def _policy_parts(policy: Policy, now: int) -> tuple[dict[str, Any], dict[str, str]]:
    # Only 2 plans x 6 hours x 7 weekdays exist, so the rendered parts are shared (read-only).
    start = next_window_start(policy, now)
    window = {"start": iso(start), "end": iso(start + WINDOW_LENGTH_HOURS * 3600)}
    return policy.to_json(), window


def render_policy_record(rec: DropletRecord, now: int) -> dict[str, Any]:
    """Render a `droplet_backup_policy_record`; disabled records omit policy and window keys."""
    if rec.policy is None:
        return {"droplet_id": rec.id, "backup_enabled": False}
    policy, window = _policy_parts(rec.policy, now)
    return {
        "droplet_id": rec.id,
        "backup_enabled": True,
        "backup_policy": policy,
        "next_backup_window": window,
    }


def _ipv4(n: int, first: int) -> str:
    return f"{first}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255 or 1}"


def render_droplet(
    rec: DropletRecord, now: int, snapshot_ids: list[int], volume_ids: list[str]
) -> dict[str, Any]:
    """Render the full `droplet` object with every required key of the official schema.

    `snapshot_ids` and `volume_ids` come from the account's estate, which owns them.
    """
    size = SIZES[rec.size]
    features = ["private_networking", "monitoring"]
    window: dict[str, str] | None = None
    if rec.policy is not None:
        features.insert(0, "backups")
        window = _policy_parts(rec.policy, now)[1]
    if not rec.gpu:
        features.append("ipv6")
    public = _ipv4(rec.id * 2654435761 % 16_777_216, 104)
    v4 = [
        {
            "ip_address": _ipv4(rec.id % 65_536, 10),
            "netmask": "255.255.0.0",
            "gateway": "nil",
            "type": "private",
        },
        {
            "ip_address": public,
            "netmask": "255.255.240.0",
            "gateway": public.rsplit(".", 1)[0] + ".1",
            "type": "public",
        },
    ]
    v6 = []
    if not rec.gpu:
        low, high = rec.id % 65_536, rec.id // 65_536 % 65_536
        v6.append(
            {
                "ip_address": f"2604:a880:400:d1::{low:x}:{high:x}",
                "netmask": 64,
                "gateway": "2604:a880:400:d1::1",
                "type": "public",
            }
        )
    out: dict[str, Any] = {
        "id": rec.id,
        "name": rec.name,
        "memory": size["memory"],
        "vcpus": size["vcpus"],
        "disk": size["disk"],
        "disk_info": size["disk_info"],
        "locked": False,
        "status": rec.status,
        "kernel": None,
        "created_at": iso(rec.created),
        "features": features,
        "backup_ids": rec.backup_ids(),
        "next_backup_window": window,
        "snapshot_ids": snapshot_ids,
        "image": IMAGES[rec.image],
        "volume_ids": volume_ids,
        "size": size,
        "size_slug": rec.size,
        "networks": {"v4": v4, "v6": v6},
        "region": REGIONS[rec.region],
        "tags": list(rec.tags),
        "vpc_uuid": rec.vpc_uuid,
    }
    if rec.gpu:
        out["gpu_info"] = size["gpu_info"]
    return out


def render_backups(rec: DropletRecord) -> list[dict[str, Any]]:
    """Render the droplet's backups (`droplet_snapshot` objects of type `backup`), oldest first."""
    out = []
    for k, backup_id in enumerate(rec.backup_ids()):
        window = rec.backup_newest - (rec.backup_count - 1 - k) * rec.backup_period
        created = window + (backup_id * 37 % 200) * 60 + backup_id % 60
        out.append(
            {
                "id": backup_id,
                "name": f"{rec.name} {iso(created)[:10]}",
                "distribution": IMAGES[rec.image]["distribution"],
                "slug": None,
                "public": False,
                "regions": [rec.region],
                "created_at": iso(created),
                "min_disk_size": SIZES[rec.size]["disk"],
                "size_gigabytes": round(0.5 + (backup_id * 2654435761 % 4000) / 1000, 2),
                "type": "backup",
            }
        )
    return out
