"""Finding records in a payload and flattening them to SQLite values."""

from __future__ import annotations

import json

import pytest

from sqlprovider.engine.rows import extractors, records_of
from sqlprovider.errors import ResponseError
from sqlprovider.spec import Provider, Resource, load_providers

POLICIES = {
    "policies": {
        "436444618": {"droplet_id": 436444618, "backup_enabled": False},
        "444909314": {
            "droplet_id": 444909314,
            "backup_enabled": True,
            "backup_policy": {
                "plan": "daily",
                "hour": 20,
                "window_length_hours": 4,
                "retention_period_days": 7,
            },
            "next_backup_window": {"start": "2024-09-13T20:00:00Z", "end": "2024-09-14T00:00:00Z"},
        },
    },
    "links": {},
    "meta": {"total": 2},
}


@pytest.fixture(scope="module")
def provider() -> Provider:
    return load_providers()[0]


def rows(resource: Resource, payload: dict, method: str, echo: dict | None = None) -> list[dict]:
    chosen = next(m for m in resource.methods if m.name == method)
    readers = extractors(resource)
    return [
        {
            c.name: read(record, payload, echo or {})
            for c, read in zip(resource.columns, readers, strict=True)
        }
        for record in records_of(payload, chosen, "/test")
    ]


def test_policies_map_becomes_one_row_per_droplet(provider: Provider) -> None:
    policies = provider.resource("digitalocean.compute.droplet_backup_policies")
    off, daily = rows(policies, POLICIES, "list")
    assert off["droplet_id"] == 436444618
    assert off["backup_enabled"] == 0
    assert off["backup_policy"] is None
    assert off["backup_policy_plan"] is None
    assert off["next_backup_window_start"] is None
    assert daily["backup_enabled"] == 1
    assert daily["backup_policy_plan"] == "daily"
    assert daily["backup_policy_hour"] == 20
    assert daily["backup_policy_weekday"] is None
    assert json.loads(daily["backup_policy"])["retention_period_days"] == 7
    assert json.loads(daily["raw"])["droplet_id"] == 444909314


def test_single_policy_object_is_one_row(provider: Provider) -> None:
    policies = provider.resource("digitalocean.compute.droplet_backup_policies")
    payload = {"policy": POLICIES["policies"]["444909314"]}
    (row,) = rows(policies, payload, "get")
    assert row["droplet_id"] == 444909314


def test_key_column_is_echoed_when_the_record_lacks_it(provider: Provider) -> None:
    backups = provider.resource("digitalocean.compute.droplet_backups")
    payload = {
        "backups": [
            {
                "id": 67539192,
                "name": "web-01- 2020-07-29",
                "regions": ["nyc3"],
                "created_at": "2020-07-29T01:44:35Z",
                "min_disk_size": 50,
                "size_gigabytes": 2.34,
                "type": "backup",
            }
        ],
        "links": {},
        "meta": {"total": 1},
    }
    (row,) = rows(backups, payload, "list", {"droplet_id": 3164444, "page": None, "per_page": 200})
    assert row["droplet_id"] == 3164444
    assert row["regions"] == '["nyc3"]'
    assert row["size_gigabytes"] == 2.34
    assert row["per_page"] == 200


def test_response_level_fields_repeat_on_every_row(provider: Provider) -> None:
    db_backups = provider.resource("digitalocean.databases.backups")
    payload = {
        "backups": [
            {"created_at": "2019-01-11T18:42:27Z", "size_gigabytes": 0.03},
            {"created_at": "2019-01-12T18:42:27Z", "size_gigabytes": 0.04},
        ],
        "scheduled_backup_time": {
            "backup_hour": 20,
            "backup_minute": 40,
            "backup_interval_hours": 24,
        },
        "backup_progress": "36",
    }
    first, second = rows(db_backups, payload, "list", {"database_cluster_uuid": "u"})
    assert first["backup_progress"] == second["backup_progress"] == "36"
    assert first["scheduled_backup_time_backup_hour"] == 20
    assert first["incremental"] is None
    assert first["database_cluster_uuid"] == "u"


def test_wrong_shape_is_a_clear_error(provider: Provider) -> None:
    policies = provider.resource("digitalocean.compute.droplet_backup_policies")
    with pytest.raises(ResponseError, match="expected map records at 'policies'"):
        rows(policies, {"policies": [1, 2]}, "list")
