"""`sync()` against the sandbox: default tables, keys, history, stale rows, failures, readers."""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from sqlprovider.cli.main import main
from sqlprovider.errors import ServiceError
from sqlprovider.integrations.layout import default_resources
from sqlprovider.integrations.runlog import LOG_TABLE
from sqlprovider.integrations.sync import plan_sources, sync
from sqlprovider.sandbox import Sandbox
from sqlprovider.sandbox.faults import Faults
from tests.conftest import connect_to

DROPLETS = "digitalocean_compute_droplets"
POLICIES = "digitalocean_compute_droplet_backup_policies"
DAY = datetime.timedelta(days=1)
START = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)


def _read(path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def _count(path: Path, table: str) -> int:
    return int(_read(path, f"SELECT count(*) FROM {table}")[0][0])  # type: ignore[call-overload]


def test_default_set_is_every_list_table_and_the_keyed_ones_they_reach(sandbox: Sandbox) -> None:
    with connect_to(sandbox) as con:
        provider = con.session.provider
        sources = {s.table: s for s in plan_sources(con)}
    # Derived from the spec: every resource here is either a list or reachable through
    # values_from, so all of them are in the set.
    assert set(sources) == {r.qualified_name.replace(".", "_") for r in provider.resources()}
    # Lists first, then the keyed tables (those needing a key) in spec order.
    keyed = [r.qualified_name for r in provider.resources() if r.required_parameters]
    assert {"digitalocean.compute.droplet_backups", "digitalocean.databases.backups"} <= set(keyed)
    assert [r.qualified_name for r in default_resources(provider)][-len(keyed) :] == keyed
    backups = sources["digitalocean_databases_backups"]
    # The account is part of every key: the same id in two accounts is two rows.
    assert backups.key == ("account", "database_cluster_uuid", "created_at")
    # Clusters without backups are left out by the spec's values_where, qualified by alias.
    assert "NOT s.engine IN ('redis', 'valkey')" in backups.sql
    assert sources["digitalocean_compute_droplet_backups"].origin == (
        "digitalocean.compute.droplet_backups"
    )


def test_first_sync_writes_typed_keyed_tables_and_opens_one_version_per_row(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox(seed=3, droplets=25, clusters=6)
    path = tmp_path / "estate.db"
    with connect_to(sb) as con:
        report = sync(con, path, now=START)
        expected = con.execute("SELECT count(*) FROM digitalocean.compute.droplets").fetchall()
        backups = con.execute(
            "SELECT count(*) FROM digitalocean.databases.clusters c JOIN "
            "digitalocean.databases.backups b ON b.database_cluster_uuid = c.id "
            "WHERE c.engine NOT IN ('redis', 'valkey')"
        ).fetchall()
    assert _count(path, DROPLETS) == expected[0][0] == 25
    assert _count(path, "digitalocean_databases_backups") == backups[0][0] > 0
    info = {row[1]: (row[2], row[5]) for row in _read(path, f"PRAGMA table_info({DROPLETS})")}
    assert info["account"] == ("TEXT", 1)
    assert info["id"] == ("INTEGER", 2)
    assert info["features"] == ("JSON", 0)
    assert info["_synced_at"] == ("TEXT", 0)
    assert _read(path, "PRAGMA journal_mode") == [("wal",)]
    assert _read(path, f"SELECT DISTINCT _synced_at FROM {DROPLETS}") == [
        ("2026-11-01T12:00:00.000Z",)
    ]
    for change in report.changes:
        assert change.added == change.rows == _count(path, change.table + "_history")
    log = _read(
        path, f"SELECT rows_added, rows_changed, rows_removed, requests, error FROM {LOG_TABLE}"
    )
    assert log == [(report.history_rows, 0, 0, report.requests, None)]
    described = dict(_read(path, "SELECT table_name, origin FROM sqlprovider_tables"))
    assert described[DROPLETS] == "digitalocean.compute.droplets"


def test_an_unchanged_estate_makes_the_same_requests_and_writes_no_history(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox(seed=4, droplets=30)
    path = tmp_path / "estate.db"
    with connect_to(sb) as con:
        sync(con, path, now=START)
        first = sorted((r.method, r.path, sorted(r.query.items())) for r in sb.requests)
        sb.clear_requests()
        histories = {t: _count(path, t + "_history") for t in (DROPLETS, POLICIES)}
        report = sync(con, path, now=START + DAY)
        second = sorted((r.method, r.path, sorted(r.query.items())) for r in sb.requests)
    assert second == first
    assert report.history_rows == 0
    assert all(c.changed == c.removed == 0 for c in report.changes)
    assert {t: _count(path, t + "_history") for t in histories} == histories
    assert _read(path, f"SELECT DISTINCT _synced_at FROM {DROPLETS}") == [
        ("2026-11-02T12:00:00.000Z",)
    ]


def test_stale_rows_go_and_changes_close_one_version_and_open_another(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox(seed=6, droplets=20)
    path = tmp_path / "estate.db"
    with connect_to(sb) as con:
        sync(con, path, tables=["compute.droplets", "compute.droplet_backup_policies"], now=START)
        kind, gone = sb.account.mutate()
        while kind != "removed":
            kind, gone = sb.account.mutate()
        enabled = _read(path, f"SELECT droplet_id FROM {POLICIES} WHERE backup_enabled LIMIT 1")
        switched = int(enabled[0][0])  # type: ignore[call-overload]
        sb.account.set_policy(switched, None)
        report = sync(
            con,
            path,
            tables=["compute.droplets", "compute.droplet_backup_policies"],
            now=START + DAY,
        )
    by_table = {c.table: c for c in report.changes}
    assert by_table[DROPLETS].removed >= 1
    assert _read(path, f"SELECT * FROM {DROPLETS} WHERE id = ?", gone) == []
    assert _read(path, f"SELECT valid_to FROM {DROPLETS}_history WHERE id = ?", gone) == [
        ("2026-11-02T12:00:00.000Z",)
    ]
    versions = _read(
        path,
        f"SELECT backup_enabled, valid_from, valid_to FROM {POLICIES}_history "
        "WHERE droplet_id = ? ORDER BY valid_from",
        switched,
    )
    assert versions == [
        (1, "2026-11-01T12:00:00.000Z", "2026-11-02T12:00:00.000Z"),
        (0, "2026-11-02T12:00:00.000Z", None),
    ]
    assert by_table[POLICIES].changed >= 1


def test_a_failed_run_keeps_the_previous_sync_and_is_logged(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox(seed=7, droplets=30)
    path = tmp_path / "estate.db"
    with connect_to(sb, retries=1) as con:
        sync(con, path, now=START)
        before = _read(path, f"SELECT * FROM {DROPLETS} ORDER BY id")
        sb.account.mutate()
        sb.faults = Faults(rate=1.0, kinds=("500",), path_pattern="/backups$")
        with pytest.raises(ServiceError):
            sync(con, path, now=START + DAY)
    assert _read(path, f"SELECT * FROM {DROPLETS} ORDER BY id") == before
    log = _read(path, f"SELECT started_at, rows_added, error, tables FROM {LOG_TABLE} ORDER BY id")
    assert [row[2] is None for row in log] == [True, False]
    assert "ServiceError" in str(log[1][2])
    assert log[1][1] is None
    assert DROPLETS in json.loads(str(log[1][3]))


def test_a_reader_in_wal_mode_sees_the_previous_sync_until_the_new_one_commits(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox(seed=8, droplets=20)
    path = tmp_path / "estate.db"
    with connect_to(sb) as con:
        sync(con, path, tables=["compute.droplets"], now=START)
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        first = reader.execute(f"SELECT count(*), max(_synced_at) FROM {DROPLETS}").fetchall()
        for _ in range(3):
            sb.account.mutate()
        sync(con, path, tables=["compute.droplets"], now=START + DAY)
        during = reader.execute(f"SELECT count(*), max(_synced_at) FROM {DROPLETS}").fetchall()
        reader.execute("COMMIT")
        after = reader.execute(f"SELECT max(_synced_at) FROM {DROPLETS}").fetchall()
        reader.close()
    assert during == first
    assert after == [("2026-11-02T12:00:00.000Z",)]


def test_history_answers_backups_enabled_per_day(
    make_sandbox: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = make_sandbox(seed=9, droplets=20)
    path = tmp_path / "estate.db"
    with connect_to(sb) as con:
        sync(con, path, tables=["compute.droplet_backup_policies"], now=START)
        day1 = _count(path, f"{POLICIES} WHERE backup_enabled")
        enabled = [
            r[0] for r in _read(path, f"SELECT droplet_id FROM {POLICIES} WHERE backup_enabled")
        ]
        for droplet_id in enabled[:2]:
            sb.account.set_policy(int(droplet_id), None)  # type: ignore[call-overload]
        sync(con, path, tables=["compute.droplet_backup_policies"], now=START + 2 * DAY)
    per_day = _read(path, BACKUPS_PER_DAY)
    assert per_day == [("2026-11-01", day1), ("2026-11-02", day1), ("2026-11-03", day1 - 2)]


#: The README's query: Droplets with backups enabled at the end of each day since the first sync.
BACKUPS_PER_DAY = """
WITH RECURSIVE days(day) AS (
  SELECT date(min(valid_from)) FROM digitalocean_compute_droplet_backup_policies_history
  UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < date('2026-11-03')
)
SELECT day, count(h.droplet_id) AS droplets_with_backups
FROM days LEFT JOIN digitalocean_compute_droplet_backup_policies_history h
  ON h.backup_enabled AND h.valid_from < date(day, '+1 day')
  AND (h.valid_to IS NULL OR h.valid_to >= date(day, '+1 day'))
GROUP BY day ORDER BY day
"""


def test_cli_syncs_prints_the_changes_and_writes_datasette_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "estate.db"
    argv = ["sync", "--sandbox", "--sandbox-droplets", "6", "--into", str(path)]
    assert (
        main(
            [
                *argv,
                "--table",
                "compute.droplets",
                "--every",
                "2s",
                "--budget-share",
                "1",
                "--runs",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{DROPLETS}: 6 rows (+6 ~0 -0)"
    assert out[2] == f"{DROPLETS}: 6 rows (+0 ~0 -0)"
    assert out[3].startswith("synced at ")
    assert main([*argv, "--query", "names=SELECT name FROM digitalocean.compute.droplets"]) == 0
    metadata = json.loads((tmp_path / "estate.metadata.json").read_text())
    tables = metadata["databases"]["estate"]["tables"]
    assert tables[DROPLETS]["columns"]["id"].startswith("Unique Droplet id")
    assert "From the query: SELECT name" in tables["names"]["description"]
    assert f"{DROPLETS}_history" in tables
    queries = metadata["databases"]["estate"]["queries"]
    assert "recent_syncs" in queries
    assert "backups_enabled_per_day" not in queries  # the policies are not in this file
    runs = _read(path, f"SELECT count(*) FROM {LOG_TABLE} WHERE error IS NULL")
    assert runs == [(3,)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--every", "soon"], "interval such as 90s"),
        (["--every", "0.5s"], "at least one second"),
        (["--runs", "2"], "--runs needs --every"),
        (["--table", "compute.nothing"], "no API table"),
        (["--query", "sqlprovider_syncs=SELECT 1"], "reserved"),
    ],
)
def test_cli_refuses_bad_arguments_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    path = tmp_path / "estate.db"
    assert main(["sync", "--sandbox", "--into", str(path), *argv]) == 1
    assert message in capsys.readouterr().err
    assert not path.exists()
