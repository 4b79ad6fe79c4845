"""One rule for table names at every entry point: SELECT, DESCRIBE, SHOW, the shell, SQLAlchemy."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import create_engine, inspect

import sqlprovider
from sqlprovider.cli.shell import ProviderShell
from sqlprovider.sandbox import Sandbox
from sqlprovider.sql.names import NameResolver, NameRewriter

TABLES = [
    "digitalocean.compute.droplets",
    "digitalocean.compute.droplet_backups",
    "digitalocean.databases.backups",
    "digitalocean.databases.clusters",
    "digitalocean.compute.backups",  # makes the bare name `backups` ambiguous here
]


@pytest.mark.parametrize("typed", ["droplets", "compute.droplets", "digitalocean.compute.droplets"])
def test_every_spelling_selects_the_same_rows(con: sqlprovider.Connection, typed: str) -> None:
    count = con.execute(f"SELECT count(*) FROM {typed}").fetchone()
    described = con.execute(f"DESCRIBE {typed}").fetchall()
    assert count == con.execute("SELECT count(*) FROM digitalocean.compute.droplets").fetchone()
    assert count is not None
    assert count[0] > 0
    assert [row[0] for row in described][:2] == ["id", "name"]


def test_a_short_name_keeps_its_spelling_as_the_alias(con: sqlprovider.Connection) -> None:
    rows = con.execute(
        "SELECT droplets.name FROM droplets WHERE droplets.id > 0 ORDER BY droplets.id LIMIT 2"
    ).fetchall()
    assert len(rows) == 2


def test_a_mistyped_name_gets_the_same_did_you_mean_in_select_and_describe(
    con: sqlprovider.Connection,
) -> None:
    with pytest.raises(sqlprovider.ProgrammingError) as selected:
        con.execute("SELECT * FROM dropletz")
    with pytest.raises(sqlprovider.ProgrammingError) as described:
        con.execute("DESCRIBE dropletz")
    assert "did you mean digitalocean.compute.droplets" in str(selected.value)
    assert "did you mean digitalocean.compute.droplets" in str(described.value)


def test_a_mistyped_three_part_name_is_named_not_a_syntax_error(
    con: sqlprovider.Connection,
) -> None:
    with pytest.raises(sqlprovider.ProgrammingError) as caught:
        con.execute("SELECT * FROM digitalocean.compute.dropletz")
    assert "unknown table 'digitalocean.compute.dropletz'" in str(caught.value)
    assert "did you mean digitalocean.compute.droplets" in str(caught.value)


def test_your_own_table_of_that_name_wins(con: sqlprovider.Connection) -> None:
    con.execute("CREATE TEMP TABLE clusters(name TEXT)")
    con.execute("INSERT INTO clusters VALUES ('mine')")
    try:
        assert con.execute("SELECT name FROM clusters").fetchall() == [("mine",)]
        api = con.execute("SELECT name FROM databases.clusters").fetchall()
        assert ("mine",) not in api
        assert api
    finally:
        con.execute("DROP TABLE clusters")


def test_a_cte_of_that_name_wins(con: sqlprovider.Connection) -> None:
    rows = con.execute("WITH droplets AS (SELECT 7 AS id) SELECT id FROM droplets").fetchall()
    assert rows == [(7,)]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT droplets FROM t", "SELECT droplets FROM t"),
        ("SELECT a, droplets FROM t, x", "SELECT a, droplets FROM t, x"),
        ("SELECT * FROM main.droplets", "SELECT * FROM main.droplets"),
        ("SELECT * FROM t AS droplets", "SELECT * FROM t AS droplets"),
        ("SELECT * FROM backups", "SELECT * FROM backups"),  # ambiguous: SQLite will say so
        (
            "SELECT * FROM t, droplets d JOIN clusters c ON 1",
            'SELECT * FROM t, "digitalocean.compute.droplets" d JOIN '
            '"digitalocean.databases.clusters" c ON 1',
        ),
        (
            "SELECT 1 WHERE 5 IN (SELECT id FROM droplets)",
            'SELECT 1 WHERE 5 IN (SELECT id FROM "digitalocean.compute.droplets" AS "droplets")',
        ),
        ("SELECT 'from droplets' -- from droplets", "SELECT 'from droplets' -- from droplets"),
    ],
)
def test_bare_names_are_rewritten_only_where_a_table_stands(sql: str, expected: str) -> None:
    assert NameRewriter(TABLES).rewrite(sql) == expected


def test_the_resolver_says_when_a_name_is_ambiguous() -> None:
    names = NameResolver(TABLES)
    assert names.lookup("droplets") == "digitalocean.compute.droplets"
    assert names.lookup("databases.backups") == "digitalocean.databases.backups"
    assert names.lookup("backups") is None
    assert names.hint("backups").startswith("it is ambiguous: write one of")
    with pytest.raises(sqlprovider.ProgrammingError, match="ambiguous"):
        names.resolve("backups", "DESCRIBE")


def test_show_providers_and_extended_forms(con: sqlprovider.Connection) -> None:
    assert con.execute("SHOW PROVIDERS").fetchall() == [("digitalocean",)]
    (row,) = con.execute("SHOW EXTENDED PROVIDERS").fetchall()
    assert row[0] == "digitalocean"
    assert row[1] >= 2
    services = con.execute("SHOW EXTENDED SERVICES IN digitalocean").fetchall()
    assert {s[1]: s[3] for s in services}["databases"] >= 2
    cursor = con.execute("SHOW EXTENDED RESOURCES IN compute LIKE 'droplets'")
    assert [d[0] for d in cursor.description or ()][-1] == "paginated"
    assert cursor.fetchall()[0][1] == "digitalocean.compute.droplets"
    methods = con.execute("SHOW EXTENDED METHODS IN droplets")
    assert "HTTPVerb" in [d[0] for d in methods.description or ()]


def test_shell_schema_shows_an_api_tables_columns(con: sqlprovider.Connection) -> None:
    out = io.StringIO()
    shell = ProviderShell(
        con,
        stdin=io.StringIO(".schema droplet_backups\nCREATE TEMP TABLE mine(a);\n.schema mine\n"),
        stdout=out,
        stderr=io.StringIO(),
    )
    shell.cmdloop()
    text = out.getvalue()
    assert (
        'CREATE TABLE "digitalocean.compute.droplet_backups"(droplet_id INTEGER, id INTEGER' in text
    )
    assert "raw JSON HIDDEN" in text
    assert "CREATE TABLE mine(a);" in text


def test_sqlalchemy_reflects_a_short_name(sandbox: Sandbox) -> None:
    engine = create_engine(f"sqlprovider://:{sandbox.token}@/?api_url={sandbox.url}")
    inspector = inspect(engine)
    assert inspector.has_table("droplets")
    assert [c["name"] for c in inspector.get_columns("compute.droplets")][:2] == ["id", "name"]
    assert not inspector.has_table("dropletz")
    engine.dispose()
