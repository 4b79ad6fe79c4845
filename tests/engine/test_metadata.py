"""SHOW/DESCRIBE and the metadata tables, through DB-API, `sqlprovider query` and the shell."""

from __future__ import annotations

import io
import json

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.cli.shell import ProviderShell
from sqlprovider.errors import ProgrammingError
from sqlprovider.sandbox import Sandbox
from sqlprovider.spec import load_providers

PROVIDER = load_providers()[0]
BACKUPS = PROVIDER.resource("digitalocean.compute.droplet_backups")


def rows(con: sqlprovider.Connection, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
    cursor = con.execute(sql)
    return [d[0] for d in cursor.description or ()], cursor.fetchall()


def test_show_services(con: sqlprovider.Connection) -> None:
    names, found = rows(con, "SHOW SERVICES IN digitalocean")
    assert names == ["provider", "service", "description"]
    assert [r[1] for r in found] == ["compute", "databases"]
    assert rows(con, "show services like 'data%';")[1] == [found[1]]
    assert rows(con, "SHOW SERVICES")[1] == found


def test_show_resources(con: sqlprovider.Connection) -> None:
    names, found = rows(con, "SHOW RESOURCES IN digitalocean.compute")
    assert names == ["name", "id", "description", "required_keys"]
    assert [r[1] for r in found] == sorted(
        r.qualified_name for r in PROVIDER.resources() if r.service == "compute"
    )
    assert ("droplet_backups", "digitalocean.compute.droplet_backups") in [r[:2] for r in found]
    backups = rows(con, "SHOW RESOURCES IN digitalocean LIKE '%backups'")[1]
    assert sorted(r[1] for r in backups) == [
        "digitalocean.compute.droplet_backups",
        "digitalocean.databases.backups",
    ]
    assert [r[3] for r in backups] == ["droplet_id", "database_cluster_uuid"]
    assert len(rows(con, "SHOW TABLES FROM databases")[1]) == 2


def test_show_methods(con: sqlprovider.Connection) -> None:
    names, found = rows(con, "SHOW METHODS IN digitalocean.compute.droplet_backup_policies")
    assert names == ["MethodName", "RequiredParams", "OptionalParams", "SQLVerb", "Path"]
    assert sorted(found) == [
        ("get", "droplet_id", "", "SELECT", "/v2/droplets/{droplet_id}/backups/policy"),
        ("list", "", "page, per_page", "SELECT", "/v2/droplets/backups/policies"),
        (
            "update",
            "droplet_id",
            "backup_enabled, backup_policy_plan, backup_policy_weekday, backup_policy_hour",
            "UPDATE",
            "/v2/droplets/{droplet_id}/actions",
        ),
    ]


def test_describe_plain_and_extended(con: sqlprovider.Connection) -> None:
    names, plain = rows(con, "DESCRIBE digitalocean.compute.droplet_backups")
    assert names == ["name", "type", "description"]
    assert [r[0] for r in plain] == [c.name for c in BACKUPS.columns if not c.hidden]
    names, extended = rows(con, "DESC EXTENDED droplet_backups;")
    assert names == ["name", "type", "description", "hidden", "is_key", "required"]
    assert extended == [
        (
            c.name,
            c.sqlite_type,
            c.description,
            int(c.hidden),
            int(c.parameter is not None),
            int(c.name == "droplet_id"),
        )
        for c in BACKUPS.columns
    ]


@pytest.mark.parametrize(
    ("sql", "suggestion"),
    [
        ("DESCRIBE digitalocean.compute.droplet_backup", "digitalocean.compute.droplet_backups"),
        ("DESCRIBE EXTENDED digitalocean.database.clusters", "digitalocean.databases.clusters"),
        ("SHOW METHODS IN digitalocean.compute.droplet", "digitalocean.compute.droplets"),
        ("SHOW RESOURCES IN digitalocean.compte", "digitalocean.compute"),
    ],
)
def test_unknown_names_raise_programming_error(
    con: sqlprovider.Connection, sql: str, suggestion: str
) -> None:
    with pytest.raises(ProgrammingError, match="unknown") as info:
        con.execute(sql)
    assert f"did you mean {suggestion}" in str(info.value)


def test_metadata_statements_make_no_api_requests(
    sandbox: Sandbox, con: sqlprovider.Connection
) -> None:
    before = len(sandbox.requests)
    for sql in (
        "SHOW SERVICES",
        "SHOW RESOURCES IN digitalocean",
        "SHOW METHODS IN digitalocean.databases.backups",
        "DESCRIBE EXTENDED digitalocean.databases.backups",
    ):
        cursor = con.execute(sql)
        assert cursor.fetchall()
        assert cursor.stats["requests"] == 0
    assert len(sandbox.requests) == before


def test_metadata_tables(con: sqlprovider.Connection) -> None:
    resources = rows(con, "SELECT table_name, required_keys FROM sqlprovider_resources")[1]
    assert len(resources) == len(list(PROVIDER.resources()))
    assert ("digitalocean.databases.backups", "database_cluster_uuid") in resources
    columns = rows(
        con,
        "SELECT name, hidden FROM sqlprovider_columns "
        "WHERE table_name = 'digitalocean.compute.droplet_backups' ORDER BY position",
    )[1]
    assert columns == [(c.name, int(c.hidden)) for c in BACKUPS.columns]
    parameters = rows(
        con,
        "SELECT name, location, required, constraint_text FROM sqlprovider_parameters "
        "WHERE table_name = 'digitalocean.compute.droplet_backups'",
    )[1]
    assert ("droplet_id", "path", 1, ">= 1") in parameters
    assert ("per_page", "query", 0, ">= 1 and <= 200") in parameters
    methods = rows(
        con, "SELECT table_name, path FROM sqlprovider_methods WHERE paginated = 0 ORDER BY 1, 2"
    )[1]
    assert ("digitalocean.databases.clusters", "/v2/databases") in methods
    services = rows(con, "SELECT count(*) FROM sqlprovider_services")[1]
    assert services == [(len(PROVIDER.services),)]


def test_stats_table_shows_the_previous_statement(con: sqlprovider.Connection) -> None:
    con.execute("SELECT count(*) FROM digitalocean.compute.droplets").fetchall()
    stats = dict(rows(con, "SELECT name, value FROM sqlprovider_stats")[1])
    assert stats["requests"] == 2
    assert stats["pages"] == 2


def test_through_sqlprovider_query(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "query",
            "--sandbox",
            "--sandbox-droplets",
            "3",
            "--format",
            "json",
            "DESCRIBE EXTENDED digitalocean.compute.droplet_backups",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    described = json.loads(captured.out)
    assert [row["name"] for row in described] == [c.name for c in BACKUPS.columns]
    assert described[0]["required"] == 1
    assert main(["query", "--sandbox", "SHOW METHODS IN nope.nope.nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: SHOW METHODS: unknown table 'nope.nope.nope'")
    assert "Traceback" not in err


def test_through_the_shell(con: sqlprovider.Connection) -> None:
    out, err = io.StringIO(), io.StringIO()
    script = (
        ".mode csv\n.headers on\nSHOW SERVICES IN digitalocean;\n"
        "SHOW RESOURCES IN digitalocean.databases;\n"
        "SHOW METHODS IN digitalocean.compute.droplet_backups;\n"
        "DESCRIBE digitalocean.databases.backups;\n"
        "DESCRIBE digitalocean.databases.backup;\n"
        "SELECT count(*) AS n FROM sqlprovider_columns WHERE hidden;\n"
    )
    ProviderShell(con, stdin=io.StringIO(script), stdout=out, stderr=err).cmdloop()
    text = out.getvalue()
    assert "digitalocean,compute," in text
    assert "clusters,digitalocean.databases.clusters," in text
    assert 'list,droplet_id,"page, per_page",SELECT,/v2/droplets/{droplet_id}/backups' in text
    assert "size_gigabytes,REAL,Size of the backup in gigabytes." in text
    hidden = sum(c.hidden for r in PROVIDER.resources() for c in r.columns)
    assert text.rstrip().endswith(f"n\n{hidden}")
    assert "did you mean digitalocean.databases.backups" in err.getvalue()
