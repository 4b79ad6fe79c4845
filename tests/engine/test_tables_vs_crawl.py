"""The new tables answer what a raw crawl of the sandbox holds, at the fewest requests.

Each case is a query, the rows a plain HTTP crawl (`tests/crawl.py`) says it must return, and
the number of requests it may take: one per list page, one per key of a keyed table, and for a
join the outer list once plus one call per key (the inner unkeyed list read once however often
SQLite rescans it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sqlprovider.sandbox import Sandbox
from tests.conftest import connect_to
from tests.crawl import all_droplets, get, get_all

Case = tuple[str, Callable[[Sandbox], tuple[list[tuple[Any, ...]], int]]]


def _snapshots(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    rows = [
        (s["id"], s["resource_type"], s["resource_id"])
        for s in get_all(sb, "/v2/snapshots", "snapshots")
    ]
    return sorted(rows), 1


def _volume_snapshots(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    rows = []
    volumes = get_all(sb, "/v2/volumes", "volumes")
    for volume in volumes:
        for snap in get_all(sb, f"/v2/volumes/{volume['id']}/snapshots", "snapshots"):
            rows.append((volume["name"], snap["id"], snap["size_gigabytes"]))
    return sorted(rows), 1 + len(volumes)


def _droplet_snapshots(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    droplets = all_droplets(sb)
    rows = []
    for droplet in droplets:
        for snap in get_all(sb, f"/v2/droplets/{droplet['id']}/snapshots", "snapshots"):
            rows.append((droplet["id"], snap["id"], snap["created_at"]))
    return sorted(rows), 2 + len(droplets)


def _volumes_with_snapshots(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    snaps = get_all(sb, "/v2/snapshots", "snapshots")
    rows = [
        (v["name"], s["id"])
        for v in get_all(sb, "/v2/volumes", "volumes")
        for s in snaps
        if s["resource_id"] == v["id"]
    ]
    return sorted(rows), 2


def _droplet_snapshot_join(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    snaps = get_all(sb, "/v2/snapshots", "snapshots")
    rows = [
        (d["name"], s["id"])
        for d in all_droplets(sb)
        for s in snaps
        if s["resource_type"] == "droplet" and s["resource_id"] == str(d["id"])
    ]
    return sorted(rows), 3


def _private_images(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    rows = [(i["id"], i["type"]) for i in get_all(sb, "/v2/images", "images", private="true")]
    return sorted(rows), 1


def _images_with_snapshots(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    snaps = {s["id"]: s for s in get_all(sb, "/v2/snapshots", "snapshots")}
    images = get_all(sb, "/v2/images", "images", private="true")
    rows = [(i["id"], snaps[str(i["id"])]["resource_id"]) for i in images if str(i["id"]) in snaps]
    return sorted(rows), 2


def _errored_actions(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    rows = [
        (a["id"], a["type"])
        for a in get_all(sb, "/v2/actions", "actions")
        if a["status"] == "errored"
    ]
    return sorted(rows), 1


def _one_action(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    first = get(sb, "/v2/actions", per_page=1)["actions"][0]
    return [(first["id"], first["type"], first["status"])], 2  # the list (for min) + the get


def _droplet_actions(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    droplets = all_droplets(sb)
    rows = []
    for droplet in droplets:
        for action in get_all(sb, f"/v2/droplets/{droplet['id']}/actions", "actions"):
            if action["status"] != "completed":
                rows.append((droplet["name"], action["id"], action["status"]))
    return sorted(rows), 2 + len(droplets)


def _volumes_in_region(sb: Sandbox) -> tuple[list[tuple[Any, ...]], int]:
    region = get_all(sb, "/v2/volumes", "volumes")[0]["region"]["slug"]
    rows = [(v["name"],) for v in get_all(sb, "/v2/volumes", "volumes", region=region)]
    return sorted(rows), 2  # the list (for the first region) + the filtered list


CASES: list[Case] = [
    (
        "SELECT id, resource_type, resource_id FROM digitalocean.compute.snapshots ORDER BY 1, 2, 3",
        _snapshots,
    ),
    (
        "SELECT v.name, s.id, s.size_gigabytes FROM digitalocean.compute.volumes v "
        "JOIN digitalocean.compute.volume_snapshots s ON s.volume_id = v.id ORDER BY 1, 2, 3",
        _volume_snapshots,
    ),
    (
        "SELECT s.droplet_id, s.id, s.created_at FROM digitalocean.compute.droplets d "
        "JOIN digitalocean.compute.droplet_snapshots s ON s.droplet_id = d.id ORDER BY 1, 2, 3",
        _droplet_snapshots,
    ),
    (
        "SELECT v.name, s.id FROM digitalocean.compute.volumes v "
        "JOIN digitalocean.compute.snapshots s ON s.resource_id = v.id ORDER BY 1, 2",
        _volumes_with_snapshots,
    ),
    (
        "SELECT d.name, s.id FROM digitalocean.compute.droplets d "
        "JOIN digitalocean.compute.snapshots s ON s.resource_id = CAST(d.id AS TEXT) "
        "AND s.resource_type = 'droplet' ORDER BY 1, 2",
        _droplet_snapshot_join,
    ),
    (
        "SELECT id, type FROM digitalocean.compute.images WHERE private = 1 ORDER BY 1, 2",
        _private_images,
    ),
    (
        "SELECT i.id, s.resource_id FROM digitalocean.compute.images i "
        "JOIN digitalocean.compute.snapshots s ON s.id = CAST(i.id AS TEXT) WHERE i.private = 1 "
        "ORDER BY 1, 2",
        _images_with_snapshots,
    ),
    (
        "SELECT id, type FROM digitalocean.compute.actions WHERE status = 'errored' ORDER BY 1, 2",
        _errored_actions,
    ),
    (
        "SELECT id, type, status FROM digitalocean.compute.actions WHERE id = "
        "(SELECT min(id) FROM digitalocean.compute.actions)",
        _one_action,
    ),
    (
        "SELECT d.name, a.id, a.status FROM digitalocean.compute.droplets d "
        "JOIN digitalocean.compute.droplet_actions a ON a.droplet_id = d.id "
        "WHERE a.status <> 'completed' ORDER BY 1, 2, 3",
        _droplet_actions,
    ),
    (
        "SELECT name FROM digitalocean.compute.volumes WHERE region = "
        "(SELECT region ->> '$.slug' FROM (SELECT json_extract(raw, '$.region') AS region "
        "FROM digitalocean.compute.volumes LIMIT 1)) ORDER BY 1",
        _volumes_in_region,
    ),
]


@pytest.mark.parametrize(("sql", "crawl"), CASES, ids=[c[1].__name__.strip("_") for c in CASES])
def test_a_query_answers_the_crawl_at_the_fewest_requests(
    sql: str,
    crawl: Callable[[Sandbox], tuple[list[tuple[Any, ...]], int]],
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=11, droplets=40, clusters=2)
    expected, fewest = crawl(sb)
    assert expected, "the sandbox estate should give this query rows"
    with connect_to(sb) as con:
        cursor = con.execute(sql)
        rows = [tuple(row) for row in cursor.fetchall()]
    assert sorted(rows) == expected
    assert cursor.stats["requests"] <= fewest
