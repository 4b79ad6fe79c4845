"""`sqlprovider export` and `export()`: snapshots read back with the standard `sqlite3` module."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.integrations.export import LOG_TABLE, export
from sqlprovider.sandbox import Sandbox
from tests.conftest import connect_to

DROPLETS = "digitalocean.compute.droplets"
JOINED_BACKUPS = (
    "SELECT b.droplet_id, b.id, b.name, b.size_gigabytes FROM digitalocean.compute.droplets d "
    "JOIN digitalocean.compute.droplet_backups b ON b.droplet_id = d.id"
)


@pytest.fixture
def con(sandbox: Sandbox) -> Iterator[sqlprovider.Connection]:
    """A connection to the shared sandbox."""
    with connect_to(sandbox) as connection:
        yield connection


def _read(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _types(path: Path, table: str) -> dict[str, str]:
    return {row[1]: row[2] for row in _read(path, f"PRAGMA table_info({table})")}


def test_tables_and_queries_land_with_declared_types_and_equal_rows(
    con: sqlprovider.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.db"
    written = export(
        con,
        path,
        tables=[DROPLETS],
        queries=[
            ("backups", JOINED_BACKUPS),
            (
                "sizes",
                f"SELECT region, sum(memory) AS total, avg(vcpus) AS mean FROM {DROPLETS} "
                "GROUP BY region",
            ),
        ],
    )
    assert [(w.table, w.kind) for w in written] == [
        ("digitalocean_compute_droplets", "table"),
        ("backups", "query"),
        ("sizes", "query"),
    ]
    types = _types(path, "digitalocean_compute_droplets")
    assert types["id"] == "INTEGER"
    assert types["name"] == "TEXT"
    assert types["locked"] == "BOOLEAN"
    assert types["tags"] == "JSON"
    assert "raw" not in types  # hidden columns are not part of SELECT *
    assert _types(path, "backups") == {
        "droplet_id": "INTEGER",
        "id": "INTEGER",
        "name": "TEXT",
        "size_gigabytes": "REAL",
    }
    assert _types(path, "sizes") == {"region": "TEXT", "total": "INTEGER", "mean": "REAL"}

    expected = con.execute(f"SELECT account, * FROM {DROPLETS} ORDER BY id").fetchall()
    assert _read(path, "SELECT * FROM digitalocean_compute_droplets ORDER BY id") == expected
    assert len(expected) == 40
    expected_backups = con.execute(JOINED_BACKUPS + " ORDER BY b.id").fetchall()
    assert _read(path, "SELECT * FROM backups ORDER BY id") == expected_backups
    assert written[1].row_count == len(expected_backups) > 0


def test_each_table_is_logged_without_the_token(
    con: sqlprovider.Connection, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.db"
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    export(
        con,
        path,
        tables=["compute.droplets"],
        queries=[("ids", f"SELECT id FROM {DROPLETS}")],
        now=moment,
    )
    log = _read(path, f"SELECT * FROM {LOG_TABLE} ORDER BY table_name")
    assert log == [
        (
            "2026-01-02T03:04:05+00:00",
            "digitalocean_compute_droplets",
            "table",
            DROPLETS,
            sandbox.url.rstrip("/"),
            40,
        ),
        (
            "2026-01-02T03:04:05+00:00",
            "ids",
            "query",
            f"SELECT id FROM {DROPLETS}",
            sandbox.url.rstrip("/"),
            40,
        ),
    ]
    files = list(tmp_path.iterdir())
    assert files == [path]  # no journal or WAL left behind
    assert sandbox.token.encode() not in path.read_bytes()


def test_the_default_time_is_utc_now(con: sqlprovider.Connection, tmp_path: Path) -> None:
    path = tmp_path / "snapshot.db"
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    export(con, path, queries=[("one", "SELECT 1 AS x")])
    (stamp,) = _read(path, f"SELECT exported_at FROM {LOG_TABLE}")[0]
    moment = datetime.datetime.fromisoformat(str(stamp))
    assert moment.utcoffset() == datetime.timedelta(0)
    assert before <= moment <= datetime.datetime.now(datetime.timezone.utc)


def test_a_second_export_replaces_the_table_and_keeps_other_tables(
    con: sqlprovider.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE mine (note TEXT)")
    db.execute("INSERT INTO mine VALUES ('kept')")
    db.commit()
    db.close()
    export(con, path, queries=[("big", f"SELECT id FROM {DROPLETS} WHERE memory > 4096")])
    export(con, path, queries=[("big", f"SELECT id, name FROM {DROPLETS} WHERE memory <= 4096")])
    expected = con.execute(f"SELECT id, name FROM {DROPLETS} WHERE memory <= 4096").fetchall()
    assert sorted(_read(path, "SELECT * FROM big")) == sorted(expected)
    assert _read(path, "SELECT note FROM mine") == [("kept",)]
    assert len(_read(path, f"SELECT * FROM {LOG_TABLE}")) == 2


def test_a_failing_write_rolls_back_every_table(
    con: sqlprovider.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.db"
    export(con, path, queries=[("first", "SELECT 1 AS x")])
    db = sqlite3.connect(path)
    db.execute("CREATE VIEW second AS SELECT 2 AS y")  # DROP TABLE cannot replace a view
    db.commit()
    db.close()
    with pytest.raises(sqlprovider.OperationalError, match="file is unchanged"):
        export(con, path, queries=[("first", "SELECT 10 AS x"), ("second", "SELECT 20 AS y")])
    assert _read(path, "SELECT x FROM first") == [(1,)]
    assert len(_read(path, f"SELECT * FROM {LOG_TABLE}")) == 1


def test_a_failing_query_leaves_the_file_untouched(
    con: sqlprovider.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "snapshot.db"
    export(con, path, queries=[("first", "SELECT 1 AS x")])
    before = path.read_bytes()
    with pytest.raises(sqlprovider.ProgrammingError):
        export(con, path, queries=[("first", "SELECT 2 AS x"), ("bad", "SELECT nope FROM nowhere")])
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("tables", "queries", "error", "message"),
    [
        (["digitalocean.compute.nothing"], [], sqlprovider.ProgrammingError, "no API table"),
        ([], [("bad name", "SELECT 1")], sqlprovider.InterfaceError, "plain identifier"),
        ([], [("sqlite_x", "SELECT 1")], sqlprovider.InterfaceError, "plain identifier"),
        ([], [("a", "SELECT 1"), ("A", "SELECT 2")], sqlprovider.InterfaceError, "used twice"),
        ([], [(LOG_TABLE, "SELECT 1")], sqlprovider.InterfaceError, "reserved"),
        ([], [("a", "CREATE TEMP TABLE t (x)")], sqlprovider.ProgrammingError, "no rows"),
        ([], [("a", "SELECT 1 AS x, 2 AS x")], sqlprovider.ProgrammingError, "aliases"),
        ([], [], sqlprovider.InterfaceError, "nothing to export"),
    ],
)
def test_bad_requests_are_refused_before_the_file_is_created(
    con: sqlprovider.Connection,
    tmp_path: Path,
    tables: list[str],
    queries: list[tuple[str, str]],
    error: type[Exception],
    message: str,
) -> None:
    path = tmp_path / "snapshot.db"
    with pytest.raises(error, match=message):
        export(con, path, tables=tables, queries=queries)
    assert not path.exists()


def test_cli_exports_from_the_sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.db"
    status = main(
        [
            "export",
            "--db",
            str(path),
            "--sandbox",
            "--sandbox-droplets",
            "7",
            "--table",
            DROPLETS,
            "--query",
            f"names=SELECT name FROM {DROPLETS} WHERE name LIKE '%-%'",
        ]
    )
    assert status == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"digitalocean_compute_droplets: 7 rows from table {DROPLETS}"
    assert out[1].startswith("names: 7 rows from query SELECT name")
    assert _read(path, "SELECT count(*) FROM digitalocean_compute_droplets") == [(7,)]
    assert _types(path, "names") == {"name": "TEXT"}


def test_a_keyed_table_is_read_for_every_key_its_values_from_table_lists(
    con: sqlprovider.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "keyed.db"
    (written,) = export(con, path, tables=["digitalocean.compute.droplet_backups"])
    expected = con.execute(JOINED_BACKUPS + " ORDER BY b.id").fetchall()
    assert written.row_count == len(expected) > 0
    rows = _read(
        path,
        "SELECT droplet_id, id, name, size_gigabytes FROM digitalocean_compute_droplet_backups "
        "ORDER BY id",
    )
    assert rows == expected


def test_cli_exports_backups_only_of_clusters_that_have_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cli.db"
    status = main(
        ["export", "--db", str(path), "--sandbox", "--table", "digitalocean.databases.backups"]
    )
    assert status == 0, capsys.readouterr().err
    assert "digitalocean_databases_backups:" in capsys.readouterr().out
    assert _read(
        path, "SELECT count(DISTINCT database_cluster_uuid) > 0 FROM digitalocean_databases_backups"
    ) == [(1,)]


def test_cli_refuses_a_query_without_a_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--db", str(tmp_path / "x.db"), "--query", "SELECT 1"]) == 1
    assert "NAME=SQL" in capsys.readouterr().err
