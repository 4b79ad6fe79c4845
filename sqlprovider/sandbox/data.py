"""The seeded, repeatable account behind the sandbox: droplets, backup policies and clusters.

`Account` owns the mutable state (one lock guards it) and the indexes that let a request slice
a page without sorting: sorted id lists for all, regular and GPU droplets, and per tag. Droplets
are kept as compact `DropletRecord`s and rendered on demand (see `records.py`), so a
100,000-droplet account builds in about a second. The same seed and sizes always give the same
account. This module imports nothing from sqlprovider.
"""

from __future__ import annotations

import bisect
import dataclasses
import random
import threading
from calendar import timegm
from typing import Any

from . import catalog as cat
from .clusters import make_cluster, make_db_backups, new_uuid
from .estate import Estate
from .estate_seed import DropletIntent, seed_estate, seed_new_droplet
from .records import (
    DAY,
    DropletRecord,
    Policy,
    plan_backups,
    render_backups,
    render_droplet,
    render_policy_record,
)

# The account's clock: a fixed instant, so that the same seed gives the same bytes on any day.
REFERENCE_NOW = timegm((2026, 11, 1, 12, 0, 0))
_STATUSES = ((0.80, "active"), (0.93, "off"), (0.98, "new"), (1.01, "archive"))


class Account:
    """A seeded DigitalOcean account; every public method is thread-safe."""

    def __init__(
        self,
        seed: int = 1,
        droplets: int = 20,
        clusters: int = 6,
        now: int | None = None,
        reuse_ids: tuple[int, ...] = (),
    ) -> None:
        """Build the account.

        Args:
            seed: Seed of every random choice; the same seed and sizes give the same account.
            droplets: Number of droplets (about 10% of them GPU droplets).
            clusters: Number of database clusters.
            now: The account's clock (epoch seconds); defaults to `REFERENCE_NOW`.
            reuse_ids: ascending Droplet ids the first Droplets take (another account's, so
                that some ids exist in both); the rest follow on from the last of them.
        """
        if droplets < 0 or clusters < 0:
            raise ValueError("droplets and clusters must be >= 0")
        self.seed = seed
        self.now = REFERENCE_NOW if now is None else now
        self._lock = threading.RLock()
        rng = random.Random(seed)
        self._vpcs = {region: new_uuid(rng) for region in cat.REGIONS}
        self._next_image_id = rng.randrange(150_000_000, 160_000_000)
        first_action_id = rng.randrange(2_000_000_000, 2_100_000_000)
        self._serial = droplets
        self._droplets: dict[int, DropletRecord] = {}
        self._all: list[int] = []
        self._regular: list[int] = []
        self._gpu: list[int] = []
        self._by_tag: dict[str, list[int]] = {}
        gpu_count = 0 if droplets < 2 else max(1, droplets // 10)
        gpu_indexes = set(rng.sample(range(droplets), gpu_count))
        droplet_id = rng.randrange(300_000_000, 400_000_000)
        intents: dict[int, DropletIntent] = {}
        for index in range(droplets):
            droplet_id += rng.randint(1, 2000)
            if index < len(reuse_ids):
                droplet_id = reuse_ids[index]
            rec, intents[droplet_id] = self._make_droplet(
                rng, index, droplet_id, index in gpu_indexes
            )
            self._insert(rec)
        self._clusters = [make_cluster(rng, i, self.now, self._vpcs) for i in range(clusters)]
        self._cluster_index = {c["id"]: c for c in self._clusters}
        self._cluster_backups = {c["id"]: make_db_backups(rng, c, self.now) for c in self._clusters}
        self._mutate_rng = random.Random(f"mutate:{seed}")
        # Snapshots, volumes, images and actions: one store, seeded apart from the droplets (its
        # own random stream) and only when first used, so a 100,000-droplet account that only
        # serves policies builds as fast as before. It is seeded from the droplets and policies
        # as generated, so changes made before it is first used cannot change what it holds.
        self._first_action_id = first_action_id
        self._estate_rng = random.Random(f"estate:{seed}")
        self._estate: Estate | None = None
        self._estate_input = (
            [(r, r.policy) for r in map(self._droplets.__getitem__, self._all)],
            intents,
        )

    # --- generation -------------------------------------------------------------------------

    def _make_droplet(
        self, rng: random.Random, index: int, droplet_id: int, gpu: bool
    ) -> tuple[DropletRecord, DropletIntent]:
        if gpu:
            region = cat.GPU_REGIONS[rng.randrange(len(cat.GPU_REGIONS))]
            size = cat.GPU_SIZES[rng.randrange(len(cat.GPU_SIZES))]
            image = cat.GPU_IMAGE
            name = f"ml-{size}-{region}-{index + 1:03d}"
        else:
            region = cat.REGULAR_REGIONS[rng.randrange(len(cat.REGULAR_REGIONS))]
            size = cat.REGULAR_SIZES[rng.randrange(len(cat.REGULAR_SIZES))]
            image = cat.REGULAR_IMAGES[rng.randrange(len(cat.REGULAR_IMAGES))]
            role = cat.DROPLET_ROLES[rng.randrange(len(cat.DROPLET_ROLES))]
            name = f"{role}-{region}-{index + 1:03d}"
        roll = rng.random()
        status = next(s for limit, s in _STATUSES if roll < limit)
        created = self.now - rng.randrange(DAY, 900 * DAY)
        mask = rng.getrandbits(6) & rng.getrandbits(6)
        tags = tuple(t for bit, t in enumerate(cat.DROPLET_TAGS) if mask >> bit & 1)
        policy: Policy | None = None
        roll = rng.random()
        hour = cat.WINDOW_STARTS[rng.randrange(6)]
        if not gpu and roll < 0.40:
            policy = Policy("daily", hour)
        elif not gpu and roll < 0.65:
            policy = Policy("weekly", hour, cat.WEEKDAYS[rng.randrange(7)])
        base = self._next_image_id
        self._next_image_id += 8 + rng.randrange(40)
        newest, period, count = self.now, DAY, 0
        if policy is not None:
            wanted = rng.randint(0, cat.MAX_BACKUPS[policy.plan])
            newest, period, count = plan_backups(policy, created, self.now, wanted)
        # Backups take ids base..base+6; the first snapshot takes the free id after them.
        snapshot = base + 7 if rng.random() < 0.2 else None
        volume = new_uuid(rng) if rng.random() < 0.15 else None
        rec = DropletRecord(
            id=droplet_id,
            name=name,
            gpu=gpu,
            region=region,
            size=size,
            image=image,
            status=status,
            created=created,
            tags=tags,
            policy=policy,
            backup_base=base,
            backup_count=count,
            backup_newest=newest,
            backup_period=period,
            vpc_uuid=self._vpcs[region],
        )
        return rec, DropletIntent(snapshot, volume)

    @property
    def estate(self) -> Estate:
        """Snapshots, volumes, images and actions of the account (seeded on first use)."""
        estate = self._estate
        if estate is not None:
            return estate
        with self._lock:
            if self._estate is None:
                droplets, intents = self._estate_input
                store = Estate(self._lock, self._first_action_id, 180_000_000)
                seed_estate(store, self._estate_rng, droplets, intents, self.now)
                self._estate = store
                self._estate_input = ([], {})
            return self._estate

    # --- indexes ----------------------------------------------------------------------------

    def _insert(self, rec: DropletRecord) -> None:
        self._droplets[rec.id] = rec
        bisect.insort(self._all, rec.id)
        bisect.insort(self._gpu if rec.gpu else self._regular, rec.id)
        for tag in rec.tags:
            bisect.insort(self._by_tag.setdefault(tag, []), rec.id)

    def _delete(self, droplet_id: int) -> None:
        rec = self._droplets.pop(droplet_id)
        lists = [self._all, self._gpu if rec.gpu else self._regular]
        lists += [self._by_tag[tag] for tag in rec.tags]
        for ids in lists:
            del ids[bisect.bisect_left(ids, droplet_id)]

    # --- reading (tests and the API) ---------------------------------------------------------

    def droplet_ids(self, gpu: bool | None = None) -> list[int]:
        """Return sorted droplet ids: all, only GPU (`gpu=True`) or only regular (`gpu=False`)."""
        with self._lock:
            return list(self._all if gpu is None else self._gpu if gpu else self._regular)

    def droplet(self, droplet_id: int) -> DropletRecord | None:
        """Return a copy of one droplet's record, or None."""
        with self._lock:
            rec = self._droplets.get(droplet_id)
            return None if rec is None else dataclasses.replace(rec)

    def clusters(self) -> list[dict[str, Any]]:
        """Return the database clusters (shared objects: do not modify)."""
        return list(self._clusters)

    def droplets_page(
        self, gpu: bool, tag: str | None, name: str | None, offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Return (total, rendered droplets) for one page of a filtered droplet listing."""
        with self._lock:
            ids = self._by_tag.get(tag, []) if tag is not None else self._all
            if tag is not None or name is not None:
                folded = None if name is None else name.casefold()
                ids = [
                    i
                    for i in ids
                    if self._droplets[i].gpu == gpu
                    and (folded is None or self._droplets[i].name.casefold() == folded)
                ]
            else:
                ids = self._gpu if gpu else self._regular
            recs = [self._droplets[i] for i in ids[offset : offset + limit]]
            estate = self.estate
            return len(ids), [
                render_droplet(
                    r,
                    self.now,
                    estate.droplet_snapshot_ids(r.id),
                    estate.droplet_volume_ids(r.id),
                )
                for r in recs
            ]

    def policies_page(self, offset: int, limit: int) -> tuple[int, dict[str, Any]]:
        """Return (total, policies map keyed by droplet id string) for one page, all droplets."""
        with self._lock:
            page = self._all[offset : offset + limit]
            records = {str(i): render_policy_record(self._droplets[i], self.now) for i in page}
            return len(self._all), records

    def policy(self, droplet_id: int) -> dict[str, Any] | None:
        """Return one droplet's policy record, or None for an unknown droplet."""
        with self._lock:
            rec = self._droplets.get(droplet_id)
            return None if rec is None else render_policy_record(rec, self.now)

    def backups_page(
        self, droplet_id: int, offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]] | None:
        """Return (total, backups) for one page of a droplet's backups, or None if unknown."""
        with self._lock:
            rec = self._droplets.get(droplet_id)
            if rec is None:
                return None
            backups = render_backups(rec)
            return len(backups), backups[offset : offset + limit]

    def databases(self, tag: str | None) -> list[dict[str, Any]]:
        """Return the clusters, optionally only those carrying `tag`."""
        return [c for c in self._clusters if tag is None or tag in (c["tags"] or [])]

    def cluster_engine(self, cluster_id: str) -> str | None:
        """Return the engine of a cluster, or None for an unknown id."""
        cluster = self._cluster_index.get(cluster_id.lower())
        return None if cluster is None else str(cluster["engine"])

    def database_backups(self, cluster_id: str) -> dict[str, Any] | None:
        """Return the `database_backups` body of a cluster, or None for an unknown id."""
        return self._cluster_backups.get(cluster_id.lower())

    # --- changing --------------------------------------------------------------------------

    def set_policy(self, droplet_id: int, policy: Policy | None) -> dict[str, Any] | None:
        """Enable/change (`policy`) or disable (`None`) backups; return the droplet's region.

        Disabling deletes the droplet's backups, as disabled droplets in this model have none.
        """
        with self._lock:
            rec = self._droplets.get(droplet_id)
            if rec is None:
                return None
            rec.policy = policy
            if policy is None:
                rec.backup_count = 0
            return cat.REGIONS[rec.region]

    def next_action_id(self) -> int:
        """Allocate the id of a new action (the estate holds the counter)."""
        return self.estate.next_action_id()

    def region_of(self, droplet_id: int) -> str | None:
        """Return the region slug of a droplet, or None for an unknown id."""
        with self._lock:
            rec = self._droplets.get(droplet_id)
            return None if rec is None else rec.region

    def mutate(self) -> tuple[str, int]:
        """Add or remove one regular droplet at random; return ("added"|"removed", id)."""
        with self._lock:
            rng = self._mutate_rng
            if len(self._regular) > 1 and rng.random() < 0.5:
                victim = self._regular[rng.randrange(len(self._regular))]
                self._delete(victim)
                # Its snapshots stay (they outlive their Droplet); its volumes are detached.
                self.estate.detach_all(victim)
                return "removed", victim
            low = self._all[0] if self._all else 300_000_000
            high = self._all[-1] if self._all else low + 1000
            new_id = rng.randrange(low, high + 1000)
            while new_id in self._droplets:
                new_id = rng.randrange(low, high + 1000)
            self._serial += 1
            rec, intent = self._make_droplet(rng, self._serial - 1, new_id, False)
            self._insert(rec)
            seed_new_droplet(self.estate, self._estate_rng, rec, intent, self.now)
            return "added", new_id
