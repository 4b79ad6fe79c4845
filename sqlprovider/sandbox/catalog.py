"""Static reference data of the emulated account: regions, sizes, images and database engines.

The sandbox owns this small catalogue so that generated droplets and clusters look like the ones
the real API returns (same field names and types), without reading anything from `provider_spec/`.
It imports nothing from sqlprovider.
"""

from __future__ import annotations

from typing import Any

WEEKDAYS: tuple[str, ...] = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
WINDOW_STARTS: tuple[int, ...] = (0, 4, 8, 12, 16, 20)
WINDOW_LENGTH_HOURS = 4
RETENTION_DAYS: dict[str, int] = {"daily": 7, "weekly": 28}
MAX_BACKUPS: dict[str, int] = {"daily": 7, "weekly": 4}
PERIOD_SECONDS: dict[str, int] = {"daily": 86_400, "weekly": 7 * 86_400}

_BASIC_SIZES = [
    "s-1vcpu-1gb",
    "s-1vcpu-2gb",
    "s-2vcpu-2gb",
    "s-2vcpu-4gb",
    "s-4vcpu-8gb",
    "s-8vcpu-16gb",
]
_GPU_SIZES = ["gpu-h100x1-80gb", "gpu-h100x8-640gb"]

REGIONS: dict[str, dict[str, Any]] = {
    slug: {
        "name": name,
        "slug": slug,
        "features": ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"],
        "available": True,
        "sizes": _BASIC_SIZES + (_GPU_SIZES if slug in ("nyc2", "tor1") else []),
    }
    for slug, name in [
        ("nyc1", "New York 1"),
        ("nyc2", "New York 2"),
        ("nyc3", "New York 3"),
        ("ams3", "Amsterdam 3"),
        ("fra1", "Frankfurt 1"),
        ("lon1", "London 1"),
        ("sfo3", "San Francisco 3"),
        ("sgp1", "Singapore 1"),
        ("tor1", "Toronto 1"),
        ("blr1", "Bangalore 1"),
        ("syd1", "Sydney 1"),
    ]
}
REGULAR_REGIONS: tuple[str, ...] = tuple(REGIONS)
GPU_REGIONS: tuple[str, ...] = ("nyc2", "tor1")


def _size(
    slug: str, memory: int, vcpus: int, disk: int, transfer: float, monthly: float, desc: str
) -> dict[str, Any]:
    regions = list(GPU_REGIONS) if slug.startswith("gpu-") else list(REGULAR_REGIONS)
    return {
        "slug": slug,
        "memory": memory,
        "vcpus": vcpus,
        "disk": disk,
        "transfer": transfer,
        "price_monthly": monthly,
        "price_hourly": round(monthly / 672, 5),
        "regions": regions,
        "available": True,
        "description": desc,
        "disk_info": [{"type": "local", "size": {"amount": disk, "unit": "gib"}}],
    }


SIZES: dict[str, dict[str, Any]] = {
    s["slug"]: s
    for s in [
        _size("s-1vcpu-1gb", 1024, 1, 25, 1.0, 6.0, "Basic"),
        _size("s-1vcpu-2gb", 2048, 1, 50, 2.0, 12.0, "Basic"),
        _size("s-2vcpu-2gb", 2048, 2, 60, 3.0, 18.0, "Basic"),
        _size("s-2vcpu-4gb", 4096, 2, 80, 4.0, 24.0, "Basic"),
        _size("s-4vcpu-8gb", 8192, 4, 160, 5.0, 48.0, "Basic"),
        _size("s-8vcpu-16gb", 16384, 8, 320, 6.0, 96.0, "Basic"),
        _size("gpu-h100x1-80gb", 245760, 20, 720, 15.0, 4529.3, "H100 GPU - 1X"),
        _size("gpu-h100x8-640gb", 1966080, 160, 2046, 60.0, 35414.4, "H100 GPU - 8X"),
    ]
}
for _slug, _count in (("gpu-h100x1-80gb", 1), ("gpu-h100x8-640gb", 8)):
    SIZES[_slug]["gpu_info"] = {
        "count": _count,
        "vram": {"amount": 80 * _count, "unit": "gib"},
        "model": "nvidia_h100",
    }
REGULAR_SIZES: tuple[str, ...] = tuple(_BASIC_SIZES)
GPU_SIZES: tuple[str, ...] = tuple(_GPU_SIZES)

_IMAGE_LIST: list[dict[str, Any]] = [
    {
        "id": 63663980,
        "name": "24.04 (LTS) x64",
        "distribution": "Ubuntu",
        "slug": "ubuntu-24-04-x64",
    },
    {"id": 63665012, "name": "12 x64", "distribution": "Debian", "slug": "debian-12-x64"},
    {
        "id": 63668741,
        "name": "9 x64",
        "distribution": "Rocky Linux",
        "slug": "rockylinux-9-x64",
    },
    {"id": 63671190, "name": "41 x64", "distribution": "Fedora", "slug": "fedora-41-x64"},
    {
        "id": 166407044,
        "name": "AI/ML Ready H100x1",
        "distribution": "Ubuntu",
        "slug": "gpu-h100x1-base",
    },
]
IMAGES: dict[str, dict[str, Any]] = {img["slug"]: img for img in _IMAGE_LIST}
for _img in IMAGES.values():
    _img.update(
        {
            "public": True,
            "regions": list(REGULAR_REGIONS),
            "created_at": "2024-05-15T05:47:50Z",
            "type": "base",
            "min_disk_size": 20,
            "size_gigabytes": 2.36,
            "description": "",
            "tags": [],
            "status": "available",
        }
    )
REGULAR_IMAGES: tuple[str, ...] = tuple(s for s in IMAGES if not s.startswith("gpu-"))
GPU_IMAGE = "gpu-h100x1-base"

# engine -> (versions offered, connection port)
ENGINES: dict[str, tuple[tuple[str, ...], int]] = {
    "pg": (("15", "16", "17"), 25060),
    "mysql": (("8",), 25060),
    "redis": (("7",), 25061),
    "valkey": (("8",), 25061),
    "mongodb": (("7", "8"), 27017),
    "kafka": (("3.8",), 25073),
    "opensearch": (("2",), 25060),
}
SEMVER: dict[str, str] = {
    "15": "15.10",
    "16": "16.6",
    "17": "17.2",
    "8": "8.0.40",
    "7": "7.2.4",
    "3.8": "3.8.1",
    "2": "2.17.1",
}
# The first clusters cycle through this order, so even the default 6 clusters cover the cases that
# matter (backups with and without `incremental`, caching engines that refuse backups).
ENGINE_ORDER: tuple[str, ...] = (
    "pg",
    "mysql",
    "redis",
    "valkey",
    "mongodb",
    "pg",
    "kafka",
    "opensearch",
)
CACHING_ENGINES: frozenset[str] = frozenset({"redis", "valkey"})
ENGINES_WITHOUT_BACKUPS: frozenset[str] = frozenset({"kafka", "opensearch"})
DB_SIZES: tuple[str, ...] = ("db-s-1vcpu-1gb", "db-s-1vcpu-2gb", "db-s-2vcpu-4gb", "db-s-4vcpu-8gb")

DROPLET_ROLES: tuple[str, ...] = ("web", "api", "worker", "db", "cache", "build", "edge", "mail")
DROPLET_TAGS: tuple[str, ...] = (
    "web",
    "env:prod",
    "env:staging",
    "backup-critical",
    "k8s",
    "team:data",
)
CLUSTER_TAGS: tuple[str, ...] = ("production", "staging", "analytics")
