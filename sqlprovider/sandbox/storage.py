"""Records of the account's storage and history: snapshots, volumes, images and actions.

Each record is a small mutable dataclass rendered into the official schema on demand, like
droplets in `records.py`. The id types follow the spec exactly, including its traps: a Droplet
snapshot id is an integer in `/v2/droplets/{id}/snapshots` and `/v2/images` but a string in
`/v2/snapshots`; a snapshot's `resource_id` is always a string; an action's `resource_id` is an
integer or null (never a volume uuid). Imports nothing from sqlprovider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import REGIONS
from .records import iso


@dataclass(slots=True)
class SnapshotRecord:
    """A user snapshot of a Droplet (`id` is digits) or of a volume (`id` is a uuid)."""

    id: str
    name: str
    created: int
    regions: tuple[str, ...]
    min_disk_size: int
    size_gigabytes: float
    resource_type: str  # droplet | volume
    resource_id: str
    tags: tuple[str, ...] | None
    distribution: str = "Unknown"


@dataclass(slots=True)
class VolumeRecord:
    """A block storage volume; `droplet_id` is the Droplet it is attached to, if any."""

    id: str
    name: str
    region: str
    size_gigabytes: int
    created: int
    description: str
    filesystem_type: str
    filesystem_label: str
    tags: tuple[str, ...]
    droplet_id: int | None = None


@dataclass(slots=True)
class ActionRecord:
    """An action on a Droplet (`resource_type` droplet) or on a volume (`resource_id` None)."""

    id: int
    type: str
    status: str  # in-progress | completed | errored
    started: int
    completed: int | None
    resource_type: str
    resource_id: int | None
    region: str | None


@dataclass(slots=True)
class CustomImage:
    """A private image that is not a snapshot: an uploaded (`custom`) one."""

    id: int
    name: str
    created: int
    region: str
    size_gigabytes: float
    distribution: str
    tags: tuple[str, ...]


def render_snapshot(snap: SnapshotRecord) -> dict[str, Any]:
    """Render a `snapshots` object (the `/v2/snapshots` and volume-snapshot item)."""
    return {
        "id": snap.id,
        "name": snap.name,
        "created_at": iso(snap.created),
        "regions": list(snap.regions),
        "resource_id": snap.resource_id,
        "resource_type": snap.resource_type,
        "min_disk_size": snap.min_disk_size,
        "size_gigabytes": snap.size_gigabytes,
        "tags": None if snap.tags is None else list(snap.tags),
    }


def render_droplet_snapshot(snap: SnapshotRecord) -> dict[str, Any]:
    """Render a `droplet_snapshot` object: integer id, `type`, no resource keys or tags."""
    return {
        "id": int(snap.id),
        "name": snap.name,
        "created_at": iso(snap.created),
        "regions": list(snap.regions),
        "min_disk_size": snap.min_disk_size,
        "size_gigabytes": snap.size_gigabytes,
        "type": "snapshot",
    }


def render_snapshot_image(snap: SnapshotRecord) -> dict[str, Any]:
    """Render a Droplet snapshot as the private `image` it also is."""
    return {
        "id": int(snap.id),
        "name": snap.name,
        "type": "snapshot",
        "distribution": snap.distribution,
        "slug": None,
        "public": False,
        "regions": list(snap.regions),
        "created_at": iso(snap.created),
        "min_disk_size": snap.min_disk_size,
        "size_gigabytes": snap.size_gigabytes,
        "description": "",
        "tags": list(snap.tags or ()),
        "status": "available",
        "error_message": "",
    }


def render_custom_image(image: CustomImage) -> dict[str, Any]:
    """Render an uploaded image (`type` custom)."""
    return {
        "id": image.id,
        "name": image.name,
        "type": "custom",
        "distribution": image.distribution,
        "slug": None,
        "public": False,
        "regions": [image.region],
        "created_at": iso(image.created),
        "min_disk_size": 20,
        "size_gigabytes": image.size_gigabytes,
        "description": "Uploaded image",
        "tags": list(image.tags),
        "status": "available",
        "error_message": "",
    }


def render_volume(volume: VolumeRecord) -> dict[str, Any]:
    """Render a `volume_full` object; `region` is the full region object, as the API sends."""
    return {
        "id": volume.id,
        "name": volume.name,
        "droplet_ids": [] if volume.droplet_id is None else [volume.droplet_id],
        "description": volume.description,
        "size_gigabytes": volume.size_gigabytes,
        "created_at": iso(volume.created),
        "tags": list(volume.tags),
        "region": REGIONS[volume.region],
        "filesystem_type": volume.filesystem_type,
        "filesystem_label": volume.filesystem_label,
    }


def render_action(action: ActionRecord) -> dict[str, Any]:
    """Render an `action` object."""
    region = None if action.region is None else REGIONS[action.region]
    out: dict[str, Any] = {
        "id": action.id,
        "status": action.status,
        "type": action.type,
        "started_at": iso(action.started),
        "completed_at": None if action.completed is None else iso(action.completed),
        "resource_id": action.resource_id,
        "resource_type": action.resource_type,
        "region_slug": action.region,
    }
    if region is not None:
        out["region"] = region
    return out
