"""POST /v2/droplets/{droplet_id}/actions: backup actions change later GETs; bad bodies are 422."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sqlprovider.sandbox import Sandbox

from .conftest import make_session


def _post(sb: Sandbox, droplet_id: int, body: Any) -> requests.Response:
    return make_session(sb).post(
        f"{sb.url}/v2/droplets/{droplet_id}/actions", json=body, timeout=10
    )


def _policy(sb: Sandbox, droplet_id: int) -> dict[str, Any]:
    url = f"{sb.url}/v2/droplets/{droplet_id}/backups/policy"
    policy: dict[str, Any] = make_session(sb).get(url, timeout=10).json()["policy"]
    return policy


def _droplet(sb: Sandbox, droplet_id: int) -> dict[str, Any]:
    url = f"{sb.url}/v2/droplets?per_page=200"
    return next(
        d for d in make_session(sb).get(url, timeout=10).json()["droplets"] if d["id"] == droplet_id
    )


def _with_policy(sb: Sandbox, enabled: bool) -> int:
    return next(
        i
        for i in sb.account.droplet_ids(gpu=False)
        if (sb.account.droplet(i).policy is not None) == enabled  # type: ignore[union-attr]
    )


def test_enable_backups_defaults_to_daily(fresh: Sandbox) -> None:
    droplet_id = _with_policy(fresh, enabled=False)
    resp = _post(fresh, droplet_id, {"type": "enable_backups"})
    assert resp.status_code == 201
    action = resp.json()["action"]
    assert action["type"] == "enable_backups"
    assert action["status"] == "in-progress"
    assert action["resource_id"] == droplet_id
    assert action["resource_type"] == "droplet"
    assert action["completed_at"] is None
    policy = _policy(fresh, droplet_id)
    assert policy["backup_enabled"] is True
    assert policy["backup_policy"]["plan"] == "daily"
    assert policy["backup_policy"]["retention_period_days"] == 7
    droplet = _droplet(fresh, droplet_id)
    assert "backups" in droplet["features"]
    assert droplet["next_backup_window"] is not None


def test_enable_with_weekly_policy(fresh: Sandbox) -> None:
    droplet_id = _with_policy(fresh, enabled=False)
    body = {
        "type": "enable_backups",
        "backup_policy": {"plan": "weekly", "weekday": "TUE", "hour": 8},
    }
    assert _post(fresh, droplet_id, body).status_code == 201
    policy = _policy(fresh, droplet_id)["backup_policy"]
    assert policy == {
        "plan": "weekly",
        "weekday": "TUE",
        "hour": 8,
        "window_length_hours": 4,
        "retention_period_days": 28,
    }


def test_disable_backups_omits_keys_and_deletes_backups(fresh: Sandbox) -> None:
    droplet_id = _with_policy(fresh, enabled=True)
    assert _post(fresh, droplet_id, {"type": "disable_backups"}).status_code == 201
    assert _policy(fresh, droplet_id) == {"droplet_id": droplet_id, "backup_enabled": False}
    droplet = _droplet(fresh, droplet_id)
    assert droplet["backup_ids"] == []
    assert droplet["next_backup_window"] is None
    assert "backups" not in droplet["features"]
    policies = (
        make_session(fresh)
        .get(f"{fresh.url}/v2/droplets/backups/policies?per_page=200", timeout=10)
        .json()["policies"]
    )
    assert policies[str(droplet_id)] == {"droplet_id": droplet_id, "backup_enabled": False}


def test_change_backup_policy(fresh: Sandbox) -> None:
    droplet_id = _with_policy(fresh, enabled=True)
    body = {
        "type": "change_backup_policy",
        "backup_policy": {"plan": "weekly", "weekday": "SUN", "hour": 20},
    }
    resp = _post(fresh, droplet_id, body)
    assert resp.status_code == 201
    assert resp.json()["action"]["type"] == "change_backup_policy"
    policy = _policy(fresh, droplet_id)
    assert policy["backup_policy"]["weekday"] == "SUN"
    assert policy["backup_policy"]["hour"] == 20
    assert policy["next_backup_window"]["start"].endswith("T20:00:00Z")


def test_action_ids_increase(fresh: Sandbox) -> None:
    droplet_id = _with_policy(fresh, enabled=True)
    first = _post(fresh, droplet_id, {"type": "disable_backups"}).json()["action"]["id"]
    second = _post(fresh, droplet_id, {"type": "enable_backups"}).json()["action"]["id"]
    assert second > first


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"type": 3},
        {"type": "reboot"},
        {"type": "change_backup_policy"},
        {"type": "enable_backups", "backup_policy": {"plan": "hourly"}},
        {"type": "enable_backups", "backup_policy": {"hour": 5}},
        {"type": "enable_backups", "backup_policy": {"hour": "4"}},
        {"type": "enable_backups", "backup_policy": {"plan": "weekly", "weekday": "sunday"}},
        {"type": "enable_backups", "backup_policy": "daily"},
    ],
)
def test_bad_bodies_are_422(fresh: Sandbox, body: Any) -> None:
    droplet_id = _with_policy(fresh, enabled=True)
    before = _policy(fresh, droplet_id)
    resp = _post(fresh, droplet_id, body)
    assert resp.status_code == 422
    assert resp.json()["id"] == "unprocessable_entity"
    assert _policy(fresh, droplet_id) == before


def test_change_policy_needs_backups_enabled(fresh: Sandbox) -> None:
    droplet_id = _with_policy(fresh, enabled=False)
    body = {"type": "change_backup_policy", "backup_policy": {"plan": "daily", "hour": 4}}
    assert _post(fresh, droplet_id, body).status_code == 422


def test_not_json_is_422(fresh: Sandbox) -> None:
    droplet_id = fresh.account.droplet_ids()[0]
    resp = make_session(fresh).post(
        f"{fresh.url}/v2/droplets/{droplet_id}/actions", data=b"{nope", timeout=10
    )
    assert resp.status_code == 422


def test_unknown_droplet_is_404(fresh: Sandbox) -> None:
    assert _post(fresh, 1, {"type": "enable_backups"}).status_code == 404
