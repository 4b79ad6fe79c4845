"""The account's storage and history as one store: snapshots, volumes, images and actions.

`Estate` is the single source of truth for everything a Droplet links to besides its backups:
a Droplet's `snapshot_ids` and `volume_ids` are read from here, as are `/v2/snapshots`,
`/v2/volumes`, `/v2/images?private=true` (the account's Droplet snapshots are its private
images) and every action list. Others extend it through `add_snapshot`, `add_volume`,
`attach`, `add_action` and `update_action` (a POST that completes later, a snapshot that
appears when its action completes), so each account owns one `Estate` and nothing is kept
twice. It shares the account's lock. Seeding (`seed_estate`) lives in `estate_seed.py`.
Imports nothing from sqlprovider.
"""

from __future__ import annotations

import bisect
import threading
from typing import Any

from .catalog import IMAGES
from .storage import (
    ActionRecord,
    CustomImage,
    SnapshotRecord,
    VolumeRecord,
    render_action,
    render_custom_image,
    render_droplet_snapshot,
    render_snapshot,
    render_snapshot_image,
    render_volume,
)

#: 1-click application images listed by `/v2/images?type=application` (public, like distributions).
APPLICATION_IMAGES: tuple[dict[str, Any], ...] = (
    {"id": 164165033, "name": "WordPress 6.6 on Ubuntu 24.04", "slug": "wordpress-24-04"},
    {"id": 164236810, "name": "Docker 27 on Ubuntu 24.04", "slug": "docker-24-04"},
)


class Estate:
    """Snapshots, volumes, custom images and actions of one account (guarded by its lock)."""

    def __init__(self, lock: threading.RLock, first_action_id: int, first_image_id: int) -> None:
        """Start empty; ids of new actions and images count up from the given values."""
        self._lock = lock
        self._next_action_id = first_action_id
        self._next_image_id = first_image_id
        self._snapshots: dict[str, SnapshotRecord] = {}
        self._snapshot_order: list[tuple[int, str]] = []  # (created, id), sorted
        self._by_resource: dict[tuple[str, str], list[str]] = {}
        self._volumes: dict[str, VolumeRecord] = {}
        self._volume_order: list[tuple[int, str]] = []
        self._by_droplet_volume: dict[int, list[str]] = {}
        self._actions: dict[int, ActionRecord] = {}
        self._action_order: list[int] = []
        self._by_droplet_action: dict[int, list[int]] = {}
        self._images: list[CustomImage] = []

    # --- ids -----------------------------------------------------------------------------------

    def next_action_id(self) -> int:
        """Allocate the id of a new action (ids grow with time)."""
        with self._lock:
            self._next_action_id += 1
            return self._next_action_id

    def next_image_id(self) -> int:
        """Allocate an image id (Droplet snapshots and custom images share the image ids)."""
        with self._lock:
            self._next_image_id += 1
            return self._next_image_id

    # --- changing ------------------------------------------------------------------------------

    def add_snapshot(self, snap: SnapshotRecord) -> None:
        """Store a snapshot; it shows in every list that holds it (and in its Droplet)."""
        with self._lock:
            self._snapshots[snap.id] = snap
            bisect.insort(self._snapshot_order, (snap.created, snap.id))
            key = (snap.resource_type, snap.resource_id)
            self._by_resource.setdefault(key, []).append(snap.id)

    def remove_snapshot(self, snapshot_id: str) -> bool:
        """Delete a snapshot; False when there is none with that id."""
        with self._lock:
            snap = self._snapshots.pop(snapshot_id, None)
            if snap is None:
                return False
            self._snapshot_order.remove((snap.created, snap.id))
            self._by_resource[(snap.resource_type, snap.resource_id)].remove(snap.id)
            return True

    def add_volume(self, volume: VolumeRecord) -> None:
        """Store a volume (attached when its `droplet_id` is set)."""
        with self._lock:
            self._volumes[volume.id] = volume
            bisect.insort(self._volume_order, (volume.created, volume.id))
            if volume.droplet_id is not None:
                self._by_droplet_volume.setdefault(volume.droplet_id, []).append(volume.id)

    def attach(self, volume_id: str, droplet_id: int | None) -> None:
        """Attach a volume to a Droplet, or detach it (`None`); both sides change together."""
        with self._lock:
            volume = self._volumes[volume_id]
            if volume.droplet_id is not None:
                self._by_droplet_volume[volume.droplet_id].remove(volume_id)
            volume.droplet_id = droplet_id
            if droplet_id is not None:
                self._by_droplet_volume.setdefault(droplet_id, []).append(volume_id)

    def detach_all(self, droplet_id: int) -> None:
        """Detach every volume of a Droplet that is going away."""
        with self._lock:
            for volume_id in list(self._by_droplet_volume.get(droplet_id, ())):
                self.attach(volume_id, None)

    def add_action(self, action: ActionRecord) -> None:
        """Store an action; it shows in `/v2/actions` and, for a Droplet, in its own list."""
        with self._lock:
            self._actions[action.id] = action
            _insert_id(self._action_order, action.id)
            if action.resource_type == "droplet" and action.resource_id is not None:
                _insert_id(self._by_droplet_action.setdefault(action.resource_id, []), action.id)

    def update_action(self, action_id: int, status: str, completed: int | None) -> None:
        """Move an action to `completed` or `errored` (with its completion time)."""
        with self._lock:
            action = self._actions[action_id]
            action.status = status
            action.completed = completed

    def add_custom_image(self, image: CustomImage) -> None:
        """Store an uploaded (custom) private image."""
        with self._lock:
            self._images.append(image)

    # --- reading -------------------------------------------------------------------------------

    def droplet_snapshot_ids(self, droplet_id: int) -> list[int]:
        """Ids of a Droplet's snapshots, oldest first (what `snapshot_ids` shows)."""
        with self._lock:
            ids = self._by_resource.get(("droplet", str(droplet_id)), ())
            return sorted((int(i) for i in ids), key=lambda i: (self._snapshots[str(i)].created, i))

    def droplet_volume_ids(self, droplet_id: int) -> list[str]:
        """Ids of the volumes attached to a Droplet (what `volume_ids` shows)."""
        with self._lock:
            return list(self._by_droplet_volume.get(droplet_id, ()))

    def snapshot(self, snapshot_id: str) -> SnapshotRecord | None:
        """One snapshot record (shared: do not modify), or None."""
        with self._lock:
            return self._snapshots.get(snapshot_id)

    def volume(self, volume_id: str) -> VolumeRecord | None:
        """One volume record (shared: do not modify), or None."""
        with self._lock:
            return self._volumes.get(volume_id)

    def action(self, action_id: int) -> dict[str, Any] | None:
        """One rendered action, or None."""
        with self._lock:
            action = self._actions.get(action_id)
            return None if action is None else render_action(action)

    def snapshots(self, resource_type: str | None) -> list[dict[str, Any]]:
        """`/v2/snapshots` items, oldest first, optionally of one resource type."""
        with self._lock:
            snaps = (self._snapshots[i] for _, i in self._snapshot_order)
            return [
                render_snapshot(s)
                for s in snaps
                if resource_type is None or s.resource_type == resource_type
            ]

    def droplet_snapshots(self, droplet_id: int) -> list[dict[str, Any]]:
        """`droplet_snapshot` items of one Droplet, oldest first."""
        with self._lock:
            return [
                render_droplet_snapshot(self._snapshots[str(i)])
                for i in self.droplet_snapshot_ids(droplet_id)
            ]

    def volume_snapshots(self, volume_id: str) -> list[dict[str, Any]]:
        """`snapshots` items of one volume, oldest first."""
        with self._lock:
            ids = self._by_resource.get(("volume", volume_id), ())
            snaps = sorted((self._snapshots[i] for i in ids), key=lambda s: (s.created, s.id))
            return [render_snapshot(s) for s in snaps]

    def volumes(self, region: str | None, name: str | None) -> list[dict[str, Any]]:
        """`/v2/volumes` items, oldest first, filtered by region and name (exact)."""
        with self._lock:
            vols = (self._volumes[i] for _, i in self._volume_order)
            return [
                render_volume(v)
                for v in vols
                if (region is None or v.region == region) and (name is None or v.name == name)
            ]

    def images(self, private: bool, list_type: str | None, tag: str | None) -> list[dict[str, Any]]:
        """`/v2/images` items: public distribution and application images, then private ones.

        `private` keeps only the account's own images (its Droplet snapshots and uploads);
        `list_type` keeps distributions or applications (never private images); `tag` keeps
        images carrying that tag. The filters combine (the spec does not say; we AND them).
        """
        with self._lock:
            out: list[dict[str, Any]] = []
            if not private:
                if list_type in (None, "distribution"):
                    out += [_public_image(img, "distribution") for img in IMAGES.values()]
                if list_type in (None, "application"):
                    out += [_public_image(img, "application") for img in APPLICATION_IMAGES]
            if list_type is None:
                snaps = (self._snapshots[i] for _, i in self._snapshot_order)
                out += [render_snapshot_image(s) for s in snaps if s.resource_type == "droplet"]
                out += [render_custom_image(img) for img in self._images]
            return [img for img in out if tag is None or tag in (img["tags"] or ())]

    def actions(self) -> list[dict[str, Any]]:
        """Every action of the account, oldest (lowest id) first."""
        with self._lock:
            return [render_action(self._actions[i]) for i in self._action_order]

    def actions_page(self, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """(total, one page of actions) without rendering the rest."""
        with self._lock:
            ids = self._action_order[offset : offset + limit]
            return len(self._action_order), [render_action(self._actions[i]) for i in ids]

    def droplet_actions(self, droplet_id: int) -> list[dict[str, Any]]:
        """Actions taken on one Droplet, oldest first."""
        with self._lock:
            ids = self._by_droplet_action.get(droplet_id, ())
            return [render_action(self._actions[i]) for i in ids]

    def snapshot_ids(self) -> list[str]:
        """Every snapshot id (tests)."""
        with self._lock:
            return [i for _, i in self._snapshot_order]

    def volume_count(self) -> int:
        """How many volumes the account has."""
        with self._lock:
            return len(self._volumes)

    def volume_ids(self) -> list[str]:
        """Every volume id (tests)."""
        with self._lock:
            return [i for _, i in self._volume_order]

    def action_ids(self) -> list[int]:
        """Every action id (tests)."""
        with self._lock:
            return list(self._action_order)


def _insert_id(ids: list[int], new: int) -> None:
    # Ids mostly arrive in increasing order: appending skips the search.
    if not ids or ids[-1] < new:
        ids.append(new)
    else:
        bisect.insort(ids, new)


def _public_image(img: dict[str, Any], kind: str) -> dict[str, Any]:
    # Distribution images carry type `snapshot` in the spec's own example, not `base`.
    out = dict(img) if kind == "distribution" else {**_APP_TEMPLATE, **img}
    out["type"] = "snapshot"
    out.setdefault("error_message", "")
    return out


_APP_TEMPLATE: dict[str, Any] = {
    "distribution": "Ubuntu",
    "public": True,
    "regions": ["nyc3", "ams3", "fra1", "lon1", "sfo3", "sgp1", "tor1"],
    "created_at": "2024-08-01T10:00:00Z",
    "min_disk_size": 25,
    "size_gigabytes": 3.1,
    "description": "1-click application image",
    "tags": [],
    "status": "available",
}
