"""Backup policies, droplet backups and database backups: shapes, consistency, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import requests

from sqlprovider.sandbox import Sandbox

Api = Callable[..., requests.Response]


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def test_policies_map_is_keyed_by_id_strings_covering_gpu(api: Api, sandbox: Sandbox) -> None:
    body = api("/v2/droplets/backups/policies?per_page=200").json()
    policies = body["policies"]
    assert isinstance(policies, dict)
    assert list(policies) == [str(i) for i in sandbox.account.droplet_ids()]
    for key, record in policies.items():
        assert record["droplet_id"] == int(key)
    gpu = str(sandbox.account.droplet_ids(gpu=True)[0])
    assert gpu in policies


def test_disabled_records_omit_policy_and_window(api: Api) -> None:
    policies = api("/v2/droplets/backups/policies?per_page=200").json()["policies"]
    disabled = [r for r in policies.values() if not r["backup_enabled"]]
    enabled = [r for r in policies.values() if r["backup_enabled"]]
    assert disabled
    assert enabled
    assert all(set(r) == {"droplet_id", "backup_enabled"} for r in disabled)
    for r in enabled:
        policy = r["backup_policy"]
        assert policy["hour"] in {0, 4, 8, 12, 16, 20}
        assert policy["window_length_hours"] == 4
        assert policy["retention_period_days"] == {"daily": 7, "weekly": 28}[policy["plan"]]
        assert ("weekday" in policy) == (policy["plan"] == "weekly")
        start, end = _time(r["next_backup_window"]["start"]), _time(r["next_backup_window"]["end"])
        assert end - start == timedelta(hours=4)
        assert start.hour == policy["hour"]


def test_single_policy_matches_the_map(api: Api, sandbox: Sandbox) -> None:
    policies = api("/v2/droplets/backups/policies?per_page=200").json()["policies"]
    for droplet_id in sandbox.account.droplet_ids()[:10]:
        body = api(f"/v2/droplets/{droplet_id}/backups/policy").json()
        assert body == {"policy": policies[str(droplet_id)]}


def test_backups_are_consistent_with_policy_and_retention(api: Api, sandbox: Sandbox) -> None:
    now = datetime.fromtimestamp(sandbox.account.now, timezone.utc)
    policies = api("/v2/droplets/backups/policies?per_page=200").json()["policies"]
    droplets = {
        d["id"]: d
        for kind in ("droplets", "gpus")
        for d in api(f"/v2/droplets?type={kind}&per_page=200").json()["droplets"]
    }
    counts = []
    for droplet_id, droplet in droplets.items():
        record = policies[str(droplet_id)]
        backups = api(f"/v2/droplets/{droplet_id}/backups?per_page=200").json()["backups"]
        assert [b["id"] for b in backups] == droplet["backup_ids"]
        assert ("backups" in droplet["features"]) == record["backup_enabled"]
        assert (droplet["next_backup_window"] is None) == (not record["backup_enabled"])
        if not record["backup_enabled"]:
            assert backups == []
            continue
        policy = record["backup_policy"]
        counts.append(len(backups))
        assert len(backups) <= {"daily": 7, "weekly": 4}[policy["plan"]]
        for backup in backups:
            created = _time(backup["created_at"])
            assert now - timedelta(days=policy["retention_period_days"]) <= created <= now
            assert created >= _time(droplet["created_at"])
            assert policy["hour"] <= created.hour < policy["hour"] + 4
            if policy["plan"] == "weekly":
                assert created.strftime("%a").upper() == policy["weekday"]
            assert backup["type"] == "backup"
            assert backup["regions"] == [droplet["region"]["slug"]]
    assert max(counts) > 0


def test_backups_of_unknown_droplet_is_404(api: Api) -> None:
    for path in ("/v2/droplets/1/backups", "/v2/droplets/1/backups/policy"):
        resp = api(path)
        assert resp.status_code == 404
        assert resp.json()["id"] == "not_found"


def test_supported_policies(api: Api) -> None:
    body = api("/v2/droplets/backups/supported_policies").json()
    plans = {p["name"]: p for p in body["supported_policies"]}
    assert plans["weekly"]["possible_days"] == ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    assert plans["daily"]["possible_days"] == []
    assert plans["daily"]["retention_period_days"] == 7
    assert plans["weekly"]["possible_window_starts"] == [0, 4, 8, 12, 16, 20]


def test_databases_and_tag_filter(api: Api) -> None:
    databases = api("/v2/databases").json()["databases"]
    engines = {d["engine"] for d in databases}
    assert {"pg", "mysql", "redis", "valkey", "mongodb"} <= engines
    tagged = [d["id"] for d in databases if "production" in (d["tags"] or [])]
    body = api("/v2/databases?tag_name=production").json()
    assert [d["id"] for d in body["databases"]] == tagged


def test_database_backups_by_engine(api: Api) -> None:
    for cluster in api("/v2/databases").json()["databases"]:
        resp = api(f"/v2/databases/{cluster['id']}/backups")
        if cluster["engine"] in ("redis", "valkey"):
            assert resp.status_code == 422
            assert resp.json()["message"] == (
                "Backups are not supported for Caching (redis) and Valkey clusters."
            )
            assert resp.json()["id"] == "unprocessable_entity"
            continue
        body = resp.json()
        has_incremental = {"incremental" in b for b in body["backups"]}
        assert has_incremental <= {cluster["engine"] == "mysql"}
        if "backup_progress" in body:
            assert isinstance(body["backup_progress"], str)
            assert 0 <= int(body["backup_progress"]) <= 100


def test_backup_progress_present_only_sometimes() -> None:
    seen = set()
    with Sandbox(seed=5, droplets=0, clusters=40) as sb:
        headers = {"Authorization": f"Bearer {sb.token}"}
        for cluster in sb.account.clusters():
            if cluster["engine"] in ("pg", "mysql", "mongodb"):
                url = f"{sb.url}/v2/databases/{cluster['id']}/backups"
                seen.add("backup_progress" in requests.get(url, headers=headers, timeout=10).json())
    assert seen == {True, False}


def test_unknown_cluster_is_404(api: Api) -> None:
    resp = api("/v2/databases/9cc10173-e9ea-4176-9dbc-a4cee4c4ff30/backups")
    assert resp.status_code == 404
