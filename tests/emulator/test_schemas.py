"""Every endpoint's answers validate against the JSON Schemas written from the official spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sqlprovider.sandbox import Sandbox

from .conftest import make_session


def _all_pages(
    session: Any, url: str, key: str, validate: Callable[[str, Any], None], name: str, per_page: int
) -> int:
    """Walk every page by `links.pages.next`, validating each; return the items seen."""
    seen = 0
    next_url: str | None = f"{url}{'&' if '?' in url else '?'}per_page={per_page}"
    while next_url:
        resp = session.get(next_url, timeout=10)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        validate(name, body)
        seen += len(body[key])
        next_url = body["links"].get("pages", {}).get("next")
    return seen


@pytest.mark.parametrize(
    ("seed", "droplets", "clusters", "per_page"),
    [(1, 0, 0, 20), (2, 1, 1, 1), (3, 23, 6, 7), (4, 250, 9, 200), (5, 60, 12, 20)],
)
def test_every_endpoint_and_page_matches_schemas(
    seed: int, droplets: int, clusters: int, per_page: int, validate: Callable[[str, Any], None]
) -> None:
    limits = {"per_minute": 10**6, "per_hour": 10**7}
    with Sandbox(seed=seed, droplets=droplets, clusters=clusters, **limits) as sb:
        s = make_session(sb)
        base = sb.url
        regular = _all_pages(
            s, f"{base}/v2/droplets", "droplets", validate, "droplets_list", per_page
        )
        gpus = _all_pages(
            s, f"{base}/v2/droplets?type=gpus", "droplets", validate, "droplets_list", per_page
        )
        assert regular + gpus == droplets
        policies = _all_pages(
            s,
            f"{base}/v2/droplets/backups/policies",
            "policies",
            validate,
            "backup_policies",
            per_page,
        )
        assert policies == droplets
        for droplet_id in sb.account.droplet_ids():
            _all_pages(
                s,
                f"{base}/v2/droplets/{droplet_id}/backups",
                "backups",
                validate,
                "droplet_backups",
                max(1, per_page // 4),
            )
            policy = s.get(f"{base}/v2/droplets/{droplet_id}/backups/policy", timeout=10)
            validate("backup_policy", policy.json())
        validate(
            "supported_backup_policies",
            s.get(f"{base}/v2/droplets/backups/supported_policies", timeout=10).json(),
        )
        databases = s.get(f"{base}/v2/databases", timeout=10).json()
        validate("databases_list", databases)
        assert len(databases["databases"]) == clusters
        for cluster in databases["databases"]:
            resp = s.get(f"{base}/v2/databases/{cluster['id']}/backups", timeout=10)
            if cluster["engine"] in ("redis", "valkey"):
                assert resp.status_code == 422
                validate("error", resp.json())
            else:
                assert resp.status_code == 200
                validate("database_backups", resp.json())


@pytest.mark.unrouted_ok
def test_error_bodies_match_schema(sandbox: Sandbox, validate: Callable[[str, Any], None]) -> None:
    s = make_session(sandbox)
    for path, status in [
        ("/v2/droplets/1/backups", 404),
        ("/v2/nothing", 404),
        ("/v2/droplets?per_page=500", 400),
        ("/v2/droplets?tag_name=web&type=gpus", 400),
    ]:
        resp = s.get(sandbox.url + path, timeout=10)
        assert resp.status_code == status
        validate("error", resp.json())
    resp = s.get(sandbox.url + "/v2/droplets", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert resp.status_code == 401
    validate("error", resp.json())


def test_action_answer_matches_schema(fresh: Sandbox, validate: Callable[[str, Any], None]) -> None:
    s = make_session(fresh)
    droplet_id = fresh.account.droplet_ids(gpu=False)[0]
    resp = s.post(
        f"{fresh.url}/v2/droplets/{droplet_id}/actions",
        json={"type": "disable_backups"},
        timeout=10,
    )
    assert resp.status_code == 201
    validate("droplet_action", resp.json())


def test_schema_rejects_a_wrong_shape(validate: Callable[[str, Any], None]) -> None:
    # Guards against a schema so loose that nothing fails: policies must be a map, not a list.
    with pytest.raises(AssertionError):
        validate("backup_policies", {"policies": [], "links": {}, "meta": {"total": 0}})
    with pytest.raises(AssertionError):
        validate("backup_policy", {"policy": {"droplet_id": "12", "backup_enabled": True}})
