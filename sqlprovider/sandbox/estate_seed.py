"""Seed an account's `Estate` so that every backup question has an answer, repeatably.

From the Droplets already drawn, this adds: their snapshots (some older than 90 days, some from
this week), the volumes attached to them and some that are not, volume snapshots (and volumes
never snapshotted), snapshots whose Droplet or volume no longer exists, an uploaded image, and
the action history (create, enable/change/disable backups, snapshot, attach_volume, reboot),
with errored actions in the last week and a snapshot still in progress. The same seed and sizes
give the same estate; all times are relative to the account's clock. Imports nothing from
sqlprovider.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from . import catalog as cat
from .clusters import new_uuid
from .estate import Estate
from .records import DAY, DropletRecord, Policy, iso
from .storage import ActionRecord, CustomImage, SnapshotRecord, VolumeRecord

#: Droplet ids below the first generated one: they name Droplets that no longer exist.
_GONE_DROPLET_BASE = 299_000_000


class DropletIntent(NamedTuple):
    """What the Droplet generator drew for one Droplet: a first snapshot id, a volume id."""

    snapshot_id: int | None
    volume_id: str | None


class _Draft:
    """Actions collected during seeding; ids are handed out in time order at the end."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str, str, int | None, str, int | None, str | None]] = []

    def add(
        self,
        kind: str,
        status: str,
        started: int,
        duration: int | None,
        resource_type: str,
        resource_id: int | None,
        region: str | None,
    ) -> None:
        self.items.append((started, kind, status, duration, resource_type, resource_id, region))


def seed_estate(
    estate: Estate,
    rng: random.Random,
    droplets: list[tuple[DropletRecord, Policy | None]],
    intents: dict[int, DropletIntent],
    now: int,
) -> None:
    """Fill `estate` for `droplets` (in id order, each with its policy as generated)."""
    draft = _Draft()
    for rec, policy in droplets:
        _seed_droplet(estate, rng, rec, policy, intents[rec.id], now, draft)
    _seed_guarantees(estate, rng, [rec for rec, _ in droplets], now, draft)
    _seed_gone_droplets(estate, rng, len(droplets), now, draft)
    _seed_loose_volumes(estate, rng, len(droplets), now, draft)
    _seed_volume_snapshots(estate, rng, now)
    estate.add_custom_image(
        CustomImage(
            id=estate.next_image_id(),
            name="legacy-appliance-v3",
            created=now - 400 * DAY,
            region="nyc3",
            size_gigabytes=4.2,
            distribution="Unknown",
            tags=("imported",),
        )
    )
    for started, kind, status, duration, r_type, r_id, region in sorted(
        draft.items, key=lambda item: (item[0], item[1], item[5] or 0)
    ):
        completed = None if duration is None else started + duration
        estate.add_action(
            ActionRecord(
                estate.next_action_id(), kind, status, started, completed, r_type, r_id, region
            )
        )


def seed_new_droplet(
    estate: Estate, rng: random.Random, rec: DropletRecord, intent: DropletIntent, now: int
) -> None:
    """Give a Droplet added later (`mutate`) its snapshot, volume and actions."""
    draft = _Draft()
    _seed_droplet(estate, rng, rec, rec.policy, intent, now, draft)
    for started, kind, status, duration, r_type, r_id, region in sorted(draft.items):
        completed = None if duration is None else started + duration
        estate.add_action(
            ActionRecord(
                estate.next_action_id(), kind, status, started, completed, r_type, r_id, region
            )
        )


def _seed_droplet(
    estate: Estate,
    rng: random.Random,
    rec: DropletRecord,
    policy: Policy | None,
    intent: DropletIntent,
    now: int,
    draft: _Draft,
) -> None:
    draft.add("create", "completed", rec.created - 55, 55, "droplet", rec.id, rec.region)
    if policy is not None:
        started = min(now - 3600, rec.created + rng.randrange(60, 3 * DAY))
        draft.add("enable_backups", "completed", started, 4, "droplet", rec.id, rec.region)
        if rng.random() < 0.3:
            started = rng.randrange(started + 1, now - 600) if started < now - 601 else started
            draft.add(
                "change_backup_policy", "completed", started, 3, "droplet", rec.id, rec.region
            )
    elif rng.random() < 0.2:
        started = rng.randrange(max(rec.created, now - 12 * DAY), now - 600)
        draft.add("disable_backups", "completed", started, 3, "droplet", rec.id, rec.region)
    if intent.snapshot_id is not None:
        _droplet_snapshot(estate, rng, rec, intent.snapshot_id, now, draft)
        if rng.random() < 0.3:
            _droplet_snapshot(estate, rng, rec, estate.next_image_id(), now, draft)
    if intent.volume_id is not None:
        serial = estate.volume_count() + 1
        volume = _volume(rng, intent.volume_id, rec.region, rec.created, now, serial)
        volume.droplet_id = rec.id
        volume.tags = rec.tags[:1]
        estate.add_volume(volume)
        draft.add("attach_volume", "completed", volume.created + 30, 6, "volume", None, rec.region)
    roll = rng.random()
    if roll < 0.12:
        # A backup action that failed this week: the compliance recipes look for these.
        kind = "change_backup_policy" if policy is not None else "enable_backups"
        if rng.random() < 0.5:
            kind = "snapshot"
        started = now - rng.randrange(3600, 6 * DAY)
        draft.add(kind, "errored", started, rng.randrange(5, 900), "droplet", rec.id, rec.region)
    elif roll < 0.3:
        started = now - rng.randrange(600, 20 * DAY)
        draft.add(
            "reboot", "completed", max(started, rec.created + 60), 12, "droplet", rec.id, rec.region
        )


def _droplet_snapshot(
    estate: Estate,
    rng: random.Random,
    rec: DropletRecord,
    snapshot_id: int,
    now: int,
    draft: _Draft,
) -> None:
    roll = rng.random()
    if roll < 0.35:
        age = rng.randrange(3600, 7 * DAY)
    elif roll < 0.65:
        age = rng.randrange(7 * DAY, 90 * DAY)
    else:
        age = rng.randrange(91 * DAY, 600 * DAY)
    created = max(now - age, rec.created + 600)
    disk = cat.SIZES[rec.size]["disk"]
    estate.add_snapshot(
        SnapshotRecord(
            id=str(snapshot_id),
            name=f"{rec.name}-{created * 1000 + rng.randrange(1000)}",
            created=created,
            regions=(rec.region,),
            min_disk_size=disk,
            size_gigabytes=round(rng.uniform(0.4, disk * 0.3), 2),
            resource_type="droplet",
            resource_id=str(rec.id),
            tags=rec.tags,
            distribution=str(cat.IMAGES[rec.image]["distribution"]),
        )
    )
    duration = rng.randrange(40, 400)
    draft.add("snapshot", "completed", created - duration, duration, "droplet", rec.id, rec.region)


def _seed_guarantees(
    estate: Estate, rng: random.Random, droplets: list[DropletRecord], now: int, draft: _Draft
) -> None:
    """Make sure even a small account has an errored backup action and one in progress."""
    regular = [rec for rec in droplets if not rec.gpu]
    if not regular:
        return
    first = regular[0]
    errored = any(item[2] == "errored" and item[0] > now - 6 * DAY for item in draft.items)
    if not errored:
        started = now - rng.randrange(3600, 5 * DAY)
        draft.add("snapshot", "errored", started, 120, "droplet", first.id, first.region)
    last = regular[-1]
    draft.add(
        "snapshot",
        "in-progress",
        now - rng.randrange(60, 1800),
        None,
        "droplet",
        last.id,
        last.region,
    )


def _seed_gone_droplets(
    estate: Estate, rng: random.Random, count: int, now: int, draft: _Draft
) -> None:
    """Snapshots left behind by Droplets that were destroyed (they still cost money)."""
    for k in range(2 + count // 15):
        droplet_id = _GONE_DROPLET_BASE + k * 7919 + rng.randrange(7000)
        region = cat.REGULAR_REGIONS[rng.randrange(len(cat.REGULAR_REGIONS))]
        size = cat.REGULAR_SIZES[rng.randrange(len(cat.REGULAR_SIZES))]
        created = now - rng.randrange(95 * DAY, 700 * DAY) if k % 3 != 2 else now - 20 * DAY
        name = f"retired-{cat.DROPLET_ROLES[k % len(cat.DROPLET_ROLES)]}-{k + 1:02d}"
        disk = cat.SIZES[size]["disk"]
        estate.add_snapshot(
            SnapshotRecord(
                id=str(estate.next_image_id()),
                name=f"{name}-{created * 1000 + rng.randrange(1000)}",
                created=created,
                regions=(region,),
                min_disk_size=disk,
                size_gigabytes=round(rng.uniform(1.0, disk * 0.4), 2),
                resource_type="droplet",
                resource_id=str(droplet_id),
                tags=(),
                distribution="Ubuntu",
            )
        )
        draft.add("snapshot", "completed", created - 200, 190, "droplet", droplet_id, region)
        draft.add(
            "destroy",
            "completed",
            created + rng.randrange(3600, 9 * DAY),
            20,
            "droplet",
            droplet_id,
            region,
        )


def _volume(
    rng: random.Random, volume_id: str, region: str, earliest: int, now: int, serial: int
) -> VolumeRecord:
    created = max(earliest + 300, now - rng.randrange(2 * DAY, 500 * DAY))
    number = rng.randrange(1, 1000)
    fs = ("ext4", "xfs")[rng.randrange(2)]
    return VolumeRecord(
        id=volume_id,
        name=f"vol-{region}-{serial:04d}",
        region=region,
        size_gigabytes=(10, 50, 100, 250, 500)[rng.randrange(5)],
        created=created,
        description="Block storage volume",
        filesystem_type=fs,
        filesystem_label=f"data{number}"[:16],
        tags=(),
    )


def _seed_loose_volumes(
    estate: Estate, rng: random.Random, count: int, now: int, draft: _Draft
) -> None:
    """Volumes attached to no Droplet."""
    for k in range(2 + count // 20):
        region = cat.REGULAR_REGIONS[rng.randrange(len(cat.REGULAR_REGIONS))]
        volume = _volume(
            rng, new_uuid(rng), region, now - 600 * DAY, now, estate.volume_count() + 1
        )
        volume.tags = ("detached",) if k % 2 == 0 else ()
        estate.add_volume(volume)


def _seed_volume_snapshots(estate: Estate, rng: random.Random, now: int) -> None:
    """Snapshots of most volumes (the first always, the last never) and of deleted volumes."""
    volume_ids = estate.volume_ids()
    for index, volume_id in enumerate(volume_ids):
        volume = estate.volume(volume_id)
        assert volume is not None
        last = index == len(volume_ids) - 1
        if last or (index > 0 and rng.random() >= 0.6):
            continue
        for _ in range(1 + rng.randrange(2)):
            created = rng.randrange(volume.created + 60, now - 60)
            estate.add_snapshot(_volume_snapshot(rng, volume, created))
    for k in range(1 + len(volume_ids) // 10):
        region = cat.REGULAR_REGIONS[rng.randrange(len(cat.REGULAR_REGIONS))]
        gone = _volume(rng, new_uuid(rng), region, now - 800 * DAY, now - 200 * DAY, 9000 + k)
        estate.add_snapshot(_volume_snapshot(rng, gone, gone.created + 5 * DAY))


def _volume_snapshot(rng: random.Random, volume: VolumeRecord, created: int) -> SnapshotRecord:
    return SnapshotRecord(
        id=new_uuid(rng),
        name=f"{volume.name}-{iso(created)[:10]}",
        created=created,
        regions=(volume.region,),
        min_disk_size=volume.size_gigabytes,
        size_gigabytes=round(rng.uniform(0.0, volume.size_gigabytes * 0.5), 2),
        resource_type="volume",
        resource_id=volume.id,
        tags=None if rng.random() < 0.5 else volume.tags,
    )
