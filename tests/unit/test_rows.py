"""Finding records in a payload and flattening them to SQLite values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlprovider.engine.rows import extractors, records_of, row_builder
from sqlprovider.errors import DataError, ResponseError
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


# Rows are built two ways: `extractors` (one reader per column, also the builder's fallback) and
# `row_builder` (generated source, what scans use). They must agree on any record, including
# values of the wrong type, absent keys, booleans and integers beyond 64 bits.
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=5),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _record_for(resource: Resource) -> st.SearchStrategy[dict]:
    """Records holding any subset of the resource's column paths, with values of any type."""
    fields: dict[str, st.SearchStrategy] = {}
    for column in resource.columns:
        if not column.path or column.scope != "record":
            continue
        if len(column.path) == 1:
            fields[column.path[0]] = _VALUES
        else:
            inner = {column.path[1]: _VALUES}
            fields[column.path[0]] = st.one_of(_VALUES, st.fixed_dictionaries({}, optional=inner))
    return st.fixed_dictionaries({}, optional=fields)


@pytest.mark.parametrize(
    "name", [r.qualified_name for r in load_providers()[0].resources()], ids=str
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_generated_row_builder_agrees_with_column_readers(name: str, data: st.DataObject) -> None:
    resource = load_providers()[0].resource(name)
    record = data.draw(_record_for(resource))
    echo = {p: data.draw(_SCALARS) for p in {c.parameter for c in resource.columns} - {None}}
    response = {"meta": {"total": data.draw(_SCALARS)}}
    every = frozenset(range(len(resource.columns)))
    used = data.draw(st.frozensets(st.sampled_from(sorted(every))))
    expected = [_outcome(read, record, response, echo) for read in extractors(resource)]
    if any(isinstance(value, DataError) for value in expected):
        # An integer beyond 64 bits: both ways refuse it, blaming the API's answer.
        with pytest.raises(DataError, match="the API's answer is at fault"):
            row_builder(resource, every)(record, response, echo)
        return
    assert list(row_builder(resource, every)(record, response, echo)) == expected
    some = row_builder(resource, used)(record, response, echo)
    assert [some[i] for i in sorted(used)] == [expected[i] for i in sorted(used)]
    assert all(some[i] is None for i in every - used)


def _outcome(read: Any, *args: Any) -> Any:
    try:
        return read(*args)
    except DataError as exc:
        return exc
