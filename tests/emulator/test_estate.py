"""Snapshots, volumes, images and actions: valid against the schemas and consistent as one estate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from sqlprovider.sandbox import Sandbox

from .conftest import make_session

LIMITS = {"per_minute": 10**6, "per_hour": 10**7}


def _every(session: requests.Session, url: str, key: str, per_page: int = 200) -> list[Any]:
    """Every item of a paginated list, following `links.pages.next`."""
    items: list[Any] = []
    next_url: str | None = f"{url}{'&' if '?' in url else '?'}per_page={per_page}"
    while next_url:
        resp = session.get(next_url, timeout=10)
        assert resp.status_code == 200, resp.text
        items += resp.json()[key]
        next_url = resp.json()["links"].get("pages", {}).get("next")
    return items


def _validated(
    session: requests.Session,
    url: str,
    key: str,
    name: str,
    validate: Callable[[str, Any], None],
    per_page: int,
) -> list[Any]:
    items: list[Any] = []
    next_url: str | None = f"{url}{'&' if '?' in url else '?'}per_page={per_page}"
    while next_url:
        resp = session.get(next_url, timeout=10)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        validate(name, body)
        items += body[key]
        next_url = body["links"].get("pages", {}).get("next")
    return items


@pytest.mark.parametrize(
    ("seed", "droplets", "per_page"), [(1, 0, 20), (2, 1, 1), (3, 23, 7), (5, 60, 200)]
)
def test_new_endpoints_match_the_schemas(
    seed: int, droplets: int, per_page: int, validate: Callable[[str, Any], None]
) -> None:
    with Sandbox(seed=seed, droplets=droplets, clusters=1, **LIMITS) as sb:
        s, base = make_session(sb), sb.url
        snaps = _validated(
            s, f"{base}/v2/snapshots", "snapshots", "snapshots_list", validate, per_page
        )
        assert snaps, "even an empty account keeps snapshots of destroyed Droplets"
        for kind in ("droplet", "volume"):
            only = _validated(
                s,
                f"{base}/v2/snapshots?resource_type={kind}",
                "snapshots",
                "snapshots_list",
                validate,
                per_page,
            )
            assert only == [x for x in snaps if x["resource_type"] == kind]
        volumes = _validated(s, f"{base}/v2/volumes", "volumes", "volumes_list", validate, per_page)
        for volume in volumes:
            _validated(
                s,
                f"{base}/v2/volumes/{volume['id']}/snapshots",
                "snapshots",
                "volume_snapshots",
                validate,
                per_page,
            )
        for query in ("", "?private=true", "?type=distribution", "?type=application"):
            _validated(s, f"{base}/v2/images{query}", "images", "images_list", validate, per_page)
        actions = _validated(s, f"{base}/v2/actions", "actions", "actions_list", validate, per_page)
        assert actions
        validate("action_get", s.get(f"{base}/v2/actions/{actions[0]['id']}", timeout=10).json())
        for droplet_id in sb.account.droplet_ids():
            for path, name in (("snapshots", "droplet_snapshots"), ("actions", "actions_list")):
                _validated(
                    s, f"{base}/v2/droplets/{droplet_id}/{path}", path, name, validate, per_page
                )


def test_schema_rejects_a_snapshot_with_an_integer_id(validate: Callable[[str, Any], None]) -> None:
    snapshot = {
        "id": 6372321,
        "name": "web-01",
        "created_at": "2020-07-29T01:44:35Z",
        "regions": ["nyc3"],
        "min_disk_size": 25,
        "size_gigabytes": 2.34,
        "resource_id": "200776916",
        "resource_type": "droplet",
        "tags": None,
    }
    body = {"snapshots": [snapshot], "links": {}, "meta": {"total": 1}}
    with pytest.raises(AssertionError):
        validate("snapshots_list", body)
    validate("snapshots_list", {**body, "snapshots": [{**snapshot, "id": "6372321"}]})


@pytest.fixture(scope="module")
def estate(sandbox: Sandbox) -> dict[str, Any]:
    """Everything the module's sandbox serves about snapshots, volumes, images and actions."""
    s, base = make_session(sandbox), sandbox.url
    droplets = _every(s, f"{base}/v2/droplets", "droplets") + _every(
        s, f"{base}/v2/droplets?type=gpus", "droplets"
    )
    return {
        "droplets": {d["id"]: d for d in droplets},
        "snapshots": _every(s, f"{base}/v2/snapshots", "snapshots"),
        "volumes": _every(s, f"{base}/v2/volumes", "volumes"),
        "images": _every(s, f"{base}/v2/images", "images"),
        "private": _every(s, f"{base}/v2/images?private=true", "images"),
        "actions": _every(s, f"{base}/v2/actions", "actions"),
        "session": s,
        "base": base,
    }


def test_droplet_snapshot_ids_match_both_snapshot_lists(estate: dict[str, Any]) -> None:
    s, base = estate["session"], estate["base"]
    by_droplet: dict[str, set[int]] = {}
    for snap in estate["snapshots"]:
        if snap["resource_type"] == "droplet":
            by_droplet.setdefault(snap["resource_id"], set()).add(int(snap["id"]))
    with_snapshots = 0
    for droplet_id, droplet in estate["droplets"].items():
        listed = _every(s, f"{base}/v2/droplets/{droplet_id}/snapshots", "snapshots")
        assert {x["id"] for x in listed} == set(droplet["snapshot_ids"])
        assert set(droplet["snapshot_ids"]) == by_droplet.get(str(droplet_id), set())
        assert all(isinstance(x["id"], int) and x["type"] == "snapshot" for x in listed)
        with_snapshots += bool(listed)
    assert with_snapshots >= 2
    gone = set(by_droplet) - {str(i) for i in estate["droplets"]}
    assert gone, "some snapshots belong to Droplets that no longer exist"


def test_volumes_are_attached_both_ways_and_some_are_never_snapshotted(
    estate: dict[str, Any],
) -> None:
    attached = {v["id"]: v["droplet_ids"] for v in estate["volumes"]}
    for droplet_id, droplet in estate["droplets"].items():
        for volume_id in droplet["volume_ids"]:
            assert attached[volume_id] == [droplet_id]
            region = next(v["region"]["slug"] for v in estate["volumes"] if v["id"] == volume_id)
            assert region == droplet["region"]["slug"]
    for volume_id, droplet_ids in attached.items():
        for droplet_id in droplet_ids:
            assert volume_id in estate["droplets"][droplet_id]["volume_ids"]
    assert any(attached.values())
    assert not all(attached.values())
    snapped = {x["resource_id"] for x in estate["snapshots"] if x["resource_type"] == "volume"}
    assert set(attached) - snapped, "a volume never snapshotted"
    assert snapped & set(attached), "a volume with snapshots"
    assert snapped - set(attached), "a snapshot of a volume that no longer exists"
    s, base = estate["session"], estate["base"]
    for volume_id in attached:
        own = _every(s, f"{base}/v2/volumes/{volume_id}/snapshots", "snapshots")
        assert {x["id"] for x in own} == {
            x["id"] for x in estate["snapshots"] if x["resource_id"] == volume_id
        }


def test_private_images_hold_the_account_droplet_snapshots(estate: dict[str, Any]) -> None:
    droplet_snaps = {int(x["id"]) for x in estate["snapshots"] if x["resource_type"] == "droplet"}
    private = estate["private"]
    assert all(not img["public"] for img in private)
    assert {img["id"] for img in private if img["type"] == "snapshot"} == droplet_snaps
    assert {img["type"] for img in private} == {"snapshot", "custom"}
    assert [img for img in estate["images"] if not img["public"]] == private
    assert any(img["public"] for img in estate["images"])


def test_actions_cover_backups_with_every_status(estate: dict[str, Any]) -> None:
    actions = estate["actions"]
    ids = [a["id"] for a in actions]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    statuses = {a["status"] for a in actions if a["type"] in ("snapshot", "change_backup_policy")}
    assert {"completed", "errored", "in-progress"} <= statuses | {
        a["status"] for a in actions if a["type"] == "enable_backups"
    }
    for action in actions:
        assert (action["completed_at"] is None) == (action["status"] == "in-progress")
    s, base = estate["session"], estate["base"]
    for droplet_id in list(estate["droplets"])[:10]:
        own = _every(s, f"{base}/v2/droplets/{droplet_id}/actions", "actions")
        assert own == [a for a in actions if a["resource_id"] == droplet_id]
        assert own[0]["type"] == "create"
        one = s.get(f"{base}/v2/droplets/{droplet_id}/actions/{own[0]['id']}", timeout=10)
        assert one.json() == {"action": own[0]}
    assert s.get(f"{base}/v2/actions/{ids[0]}", timeout=10).json() == {"action": actions[0]}
    assert s.get(f"{base}/v2/actions/1", timeout=10).status_code == 404


def test_a_posted_backup_action_appears_in_both_action_lists(fresh: Sandbox) -> None:
    s = make_session(fresh)
    droplet_id = fresh.account.droplet_ids(gpu=False)[0]
    posted = s.post(
        f"{fresh.url}/v2/droplets/{droplet_id}/actions",
        json={"type": "disable_backups"},
        timeout=10,
    ).json()["action"]
    assert posted["status"] == "in-progress"
    got = s.get(f"{fresh.url}/v2/actions/{posted['id']}", timeout=10).json()["action"]
    assert got["status"] == "completed"
    assert got["type"] == "disable_backups"
    own = _every(s, f"{fresh.url}/v2/droplets/{droplet_id}/actions", "actions")
    assert own[-1] == got
    assert _every(s, f"{fresh.url}/v2/actions", "actions")[-1] == got


def test_same_seed_same_estate_and_another_seed_another() -> None:
    def bodies(seed: int) -> list[bytes]:
        with Sandbox(seed=seed, droplets=30, clusters=1, **LIMITS) as sb:
            s = make_session(sb)
            paths = ["/v2/snapshots", "/v2/volumes", "/v2/images", "/v2/actions?per_page=200"]
            out = [s.get(sb.url + p, timeout=10).content for p in paths]
            return [b.replace(sb.url.encode(), b"URL") for b in out]

    assert bodies(4) == bodies(4)
    assert bodies(4)[0] != bodies(6)[0]


def test_filters_are_checked_and_applied(api: Callable[..., requests.Response]) -> None:
    volumes = api("/v2/volumes?per_page=200").json()["volumes"]
    region, name = volumes[0]["region"]["slug"], volumes[0]["name"]
    in_region = api(f"/v2/volumes?region={region}&per_page=200").json()["volumes"]
    assert in_region == [v for v in volumes if v["region"]["slug"] == region]
    assert api(f"/v2/volumes?name={name}").json()["volumes"] == [volumes[0]]
    assert api(f"/v2/volumes?name={name.upper()}").json()["volumes"] == []
    for bad in (
        "/v2/volumes?region=mars1",
        "/v2/snapshots?resource_type=image",
        "/v2/images?private=yes",
        "/v2/images?type=snapshot",
    ):
        resp = api(bad)
        assert resp.status_code == 400, bad
        assert resp.json()["id"] == "bad_request"
    assert api("/v2/volumes/not-a-uuid/snapshots").status_code == 404
    assert api("/v2/droplets/1/actions").status_code == 404


@pytest.mark.unrouted_ok
def test_head_options_trailing_slash_and_huge_pages(sandbox: Sandbox) -> None:
    s, base = make_session(sandbox), sandbox.url
    get = s.get(f"{base}/v2/droplets", timeout=10)
    head = s.head(f"{base}/v2/droplets", timeout=10)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Type"] == "application/json"
    assert int(head.headers["Content-Length"]) == len(get.content)
    options = s.options(f"{base}/v2/droplets", timeout=10)
    assert options.status_code == 204
    assert "GET" in options.headers["Allow"]
    assert "HEAD" in options.headers["Allow"]
    slashed = s.get(f"{base}/v2/droplets/", timeout=10)
    assert slashed.status_code == 200
    assert slashed.json()["droplets"] == get.json()["droplets"]
    huge = s.get(f"{base}/v2/droplets?page=1000000000", timeout=10)
    assert huge.status_code == 400
    assert "from 1 to" in huge.json()["message"]
    assert "1000000000" in huge.json()["message"]
    other = s.request("PATCH", f"{base}/v2/droplets", timeout=10)
    assert other.status_code == 405
    assert other.json()["id"] == "method_not_allowed"
    trace = s.request("TRACE", f"{base}/v2/droplets", timeout=10)
    assert trace.status_code == 501
    assert trace.headers["Content-Type"] == "application/json"
    assert trace.json()["id"] == "not_implemented"


@pytest.mark.unrouted_ok
def test_requests_without_a_route_are_marked(fresh: Sandbox) -> None:
    s = make_session(fresh)
    assert s.get(f"{fresh.url}/v2/droplets/1/backups", timeout=10).status_code == 404
    assert fresh.unrouted() == []  # a routed 404 (no such Droplet) is not unrouted
    assert s.get(f"{fresh.url}/v2/load_balancers", timeout=10).status_code == 404
    fresh.clear_requests()
    assert [r.path for r in fresh.unrouted()] == ["/v2/load_balancers"]
