"""Replays of the API's documented example payloads: the engine reads real response shapes.

The cassettes (built by `build_cassettes.py` from the official OpenAPI examples) hold the exact
requests the engine must send; vcrpy refuses any other request (record mode "none"), so each
test also proves the URL, query and pagination parameters of its calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import vcr
import yaml

import sqlprovider

CASSETTES = Path(__file__).resolve().parent / "cassettes"
TOKEN = "recorded-test-token"
replay = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    filter_headers=["authorization"],
    match_on=["method", "scheme", "host", "port", "path", "query"],
)


@pytest.fixture
def con() -> Iterator[sqlprovider.Connection]:
    # One worker: vcrpy replays reliably only when requests do not overlap.
    connection = sqlprovider.connect(
        token=TOKEN, api_url="https://api.digitalocean.com", retries=0, max_concurrency=1
    )
    yield connection
    connection.close()


def test_droplet_backups_echo_the_droplet_id(con: sqlprovider.Connection) -> None:
    with replay.use_cassette("droplet_backups.yaml") as cassette:
        rows = con.execute(
            "SELECT droplet_id, id, name, regions, size_gigabytes, type FROM digitalocean.compute.droplet_backups WHERE droplet_id = 3164444"
        ).fetchall()
    assert rows == [(3164444, 67539192, "web-01- 2020-07-29", '["nyc3"]', 2.34, "backup")]
    assert cassette.all_played


def test_policies_map_becomes_rows(con: sqlprovider.Connection) -> None:
    with replay.use_cassette("backup_policies.yaml"):
        rows = con.execute(
            "SELECT droplet_id, backup_enabled, backup_policy_plan, backup_policy_weekday, backup_policy_retention_period_days, "
            "next_backup_window_start FROM digitalocean.compute.droplet_backup_policies ORDER BY droplet_id"
        ).fetchall()
    assert rows == [
        (436444618, 0, None, None, None, None),
        (444909314, 1, "daily", None, 7, "2024-09-13T20:00:00Z"),
        (444909706, 1, "weekly", "SUN", 28, "2024-09-15T20:00:00Z"),
    ]


def test_single_policy_uses_the_per_droplet_endpoint(con: sqlprovider.Connection) -> None:
    with replay.use_cassette("backup_policy.yaml") as cassette:
        rows = con.execute(
            "SELECT droplet_id, backup_policy_plan, backup_policy_hour FROM digitalocean.compute.droplet_backup_policies WHERE droplet_id = 444909706"
        ).fetchall()
    assert rows == [(444909706, "weekly", 20)]
    assert cassette.play_count == 1


def test_supported_policies(con: sqlprovider.Connection) -> None:
    with replay.use_cassette("supported_policies.yaml"):
        rows = con.execute(
            "SELECT name, retention_period_days, json_array_length(possible_days) FROM digitalocean.compute.droplet_supported_backup_policies ORDER BY name"
        ).fetchall()
    assert rows == [("daily", 7, 0), ("weekly", 28, 7)]


def test_database_backups_keep_response_level_fields(con: sqlprovider.Connection) -> None:
    with replay.use_cassette("database_backups.yaml"):
        rows = con.execute(
            "SELECT database_cluster_uuid, created_at, incremental, backup_progress, scheduled_backup_time_backup_minute "
            "FROM digitalocean.databases.backups WHERE database_cluster_uuid = '9cc10173-e9ea-4176-9dbc-a4cee4c4ff30'"
        ).fetchall()
    uuid = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"
    assert rows == [
        (uuid, "2019-01-11T18:42:27Z", 0, "36", 40),
        (uuid, "2019-01-12T18:42:29Z", 1, "36", 40),
    ]


def test_droplets_list_both_types(con: sqlprovider.Connection) -> None:
    with replay.use_cassette("droplets.yaml") as cassette:
        rows = con.execute(
            "SELECT id, type, region, json_valid(features) FROM digitalocean.compute.droplets"
        ).fetchall()
    assert cassette.play_count == 2
    recorded = yaml.safe_load((CASSETTES / "droplets.yaml").read_text())["interactions"]
    by_type = {
        i["request"]["uri"].rsplit("=", 1)[1]: json.loads(i["response"]["body"]["string"])[
            "droplets"
        ]
        for i in recorded
    }
    expected = {
        (d["id"], kind, d["region"]["slug"], 1)
        for kind, droplets in by_type.items()
        for d in droplets
    }
    assert set(rows) == expected
    assert len(rows) == len(expected)


def test_clusters(con: sqlprovider.Connection) -> None:
    with replay.use_cassette("clusters.yaml"):
        rows = con.execute(
            "SELECT id, engine, num_nodes FROM digitalocean.databases.clusters"
        ).fetchall()
    assert rows
    assert all(isinstance(r[2], int) for r in rows)


def test_cassettes_hold_no_token() -> None:
    for path in CASSETTES.glob("*.yaml"):
        text = path.read_text()
        assert TOKEN not in text
        assert "authorization" not in text.lower()
