"""The `sqlprovider://` SQLAlchemy dialect with real SQLAlchemy and pandas, against the sandbox."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from sqlprovider.integrations.sqlalchemy import SqlproviderDialect, connect_options
from sqlprovider.sandbox import Sandbox
from sqlprovider.spec import load_providers
from tests.conftest import FAST, connect_to

DROPLETS = "digitalocean.compute.droplets"
BACKUPS = "digitalocean.compute.droplet_backups"
#: Derived from the spec, so adding a resource needs no change here.
RESOURCES = sorted(r.qualified_name for p in load_providers() for r in p.resources())


@pytest.fixture
def engine(sandbox: Sandbox) -> Iterator[sa.Engine]:
    """An engine on the shared sandbox, token in the password slot."""
    eng = sa.create_engine(f"sqlprovider://:{sandbox.token}@/", connect_args=_fast(sandbox))
    yield eng
    eng.dispose()


def _fast(sb: Sandbox) -> dict[str, object]:
    return {"api_url": sb.url, **FAST}


def _dbapi_rows(sb: Sandbox, sql: str) -> list[tuple[object, ...]]:
    with connect_to(sb) as connection:
        return connection.execute(sql).fetchall()


def test_the_entry_point_loads_the_dialect() -> None:
    assert make_url("sqlprovider://").get_dialect() is SqlproviderDialect


def test_text_query_with_three_part_names_equals_dbapi(sandbox: Sandbox, engine: sa.Engine) -> None:
    sql = f"SELECT id, name, region FROM {DROPLETS} ORDER BY id"
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(sa.text(sql))]
    assert rows == _dbapi_rows(sandbox, sql)
    assert len(rows) == 40


def test_bound_parameters_reach_the_api_filter(sandbox: Sandbox, engine: sa.Engine) -> None:
    sql = f"SELECT name FROM {DROPLETS} WHERE tag_name = :tag ORDER BY name"
    with engine.connect() as connection:
        names = connection.execute(sa.text(sql), {"tag": "env:prod"}).scalars().all()
    expected = _dbapi_rows(sandbox, sql.replace(":tag", "'env:prod'"))
    assert names == [row[0] for row in expected]
    assert names  # the seeded account tags some Droplets env:prod


def test_inspector_lists_api_tables_and_own_tables(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("CREATE TEMP TABLE scratch (x INTEGER)"))
        inspector = sa.inspect(connection)
        assert inspector.get_table_names() == RESOURCES
        assert inspector.has_table(DROPLETS)
        assert not inspector.has_table("digitalocean.compute.nothing")
        assert inspector.get_schema_names() == ["main"]


def test_columns_have_sqlite_types_comments_and_hidden_flags(engine: sa.Engine) -> None:
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns(DROPLETS)}
    assert isinstance(columns["id"]["type"], sa.Integer)
    assert isinstance(columns["name"]["type"], sa.Text)
    assert isinstance(columns["locked"]["type"], sa.Boolean)
    assert isinstance(columns["tags"]["type"], sa.JSON)
    assert columns["id"]["comment"]
    info = {name: column["info"] for name, column in columns.items()}  # type: ignore[typeddict-item]
    assert info["tag_name"] == {"hidden": True, "key": True, "required": False}
    assert info["raw"]["hidden"] is True
    assert info["id"]["hidden"] is False
    required = sa.inspect(engine).get_columns(BACKUPS)
    assert [c["name"] for c in required if c["info"]["required"]] == ["droplet_id"]  # type: ignore[typeddict-item]


def test_api_tables_have_no_keys_or_indexes(engine: sa.Engine) -> None:
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint(DROPLETS)["constrained_columns"] == []
    assert inspector.get_foreign_keys(DROPLETS) == []
    assert inspector.get_indexes(DROPLETS) == []
    assert inspector.get_unique_constraints(DROPLETS) == []
    assert "Droplet" in (inspector.get_table_comment(DROPLETS)["text"] or "")


def test_core_table_reflection_and_select(sandbox: Sandbox, engine: sa.Engine) -> None:
    droplets = sa.Table(DROPLETS, sa.MetaData(), autoload_with=engine)
    assert droplets.c.tag_name.info["hidden"] is True
    query = (
        sa.select(droplets.c.id, droplets.c.tags, droplets.c.locked)
        .where(droplets.c.region == "nyc1")
        .order_by(droplets.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    expected = _dbapi_rows(
        sandbox, f"SELECT id, tags, locked FROM {DROPLETS} WHERE region = 'nyc1' ORDER BY id"
    )
    assert [r.id for r in rows] == [e[0] for e in expected]
    assert all(isinstance(r.tags, list) and isinstance(r.locked, bool) for r in rows)


def test_regexp_match_works_through_the_registered_function(
    sandbox: Sandbox, engine: sa.Engine
) -> None:
    droplets = sa.Table(DROPLETS, sa.MetaData(), autoload_with=engine)
    query = sa.select(droplets.c.name).where(droplets.c.name.regexp_match("^[a-m].*-0[0-9]+$"))
    with engine.connect() as connection:
        names = set(connection.execute(query).scalars())
    everything = {row[0] for row in _dbapi_rows(sandbox, f"SELECT name FROM {DROPLETS}")}
    assert names == {n for n in everything if re.match(r"^[a-m].*-0[0-9]+$", n)}
    assert names
    assert names != everything


def test_core_join_supplies_the_key_of_a_keyed_table(sandbox: Sandbox, engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    droplets = sa.Table(DROPLETS, metadata, autoload_with=engine)
    backups = sa.Table(BACKUPS, metadata, autoload_with=engine)
    query = (
        sa.select(droplets.c.id, sa.func.count(backups.c.id).label("n"))
        .join(backups, backups.c.droplet_id == droplets.c.id)
        .group_by(droplets.c.id)
        .order_by(droplets.c.id)
    )
    with engine.connect() as connection:
        rows = [tuple(r) for r in connection.execute(query)]
        with pytest.raises(sa.exc.ProgrammingError, match="droplet_id"):
            connection.execute(sa.select(backups.c.id)).all()
    expected = _dbapi_rows(
        sandbox,
        f"SELECT d.id, count(b.id) FROM {DROPLETS} d JOIN {BACKUPS} b ON b.droplet_id = d.id "
        "GROUP BY d.id ORDER BY d.id",
    )
    assert rows == expected
    assert rows


def test_pandas_read_sql_equals_dbapi(sandbox: Sandbox, engine: sa.Engine) -> None:
    sql = f"SELECT id, name, memory FROM {DROPLETS} ORDER BY id"
    frame = pd.read_sql(sql, engine)
    assert list(frame.columns) == ["id", "name", "memory"]
    assert [tuple(r) for r in frame.itertuples(index=False)] == _dbapi_rows(sandbox, sql)
    table = pd.read_sql_table(DROPLETS, engine, columns=["id", "memory"])
    assert sorted(table["id"]) == sorted(frame["id"])
    assert str(table["memory"].dtype) == "int64"


def test_own_tables_follow_sqlalchemy_transactions(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("CREATE TEMP TABLE own (x INTEGER)"))
        connection.commit()
        connection.execute(sa.text("INSERT INTO own VALUES (1)"))
        connection.rollback()
        assert connection.execute(sa.text("SELECT count(*) FROM own")).scalar() == 0
        connection.execute(sa.text("INSERT INTO own VALUES (2)"))
        connection.commit()
        assert connection.execute(sa.text("SELECT count(*) FROM own")).scalar() == 1
        connection.commit()
        auto = connection.execution_options(isolation_level="AUTOCOMMIT")
        auto.execute(sa.text("INSERT INTO own VALUES (3)"))
        auto.rollback()
        assert auto.execute(sa.text("SELECT count(*) FROM own")).scalar() == 2


def test_token_in_the_query_string_is_masked(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlprovider://?token={sandbox.token}&api_url={sandbox.url}&cache_ttl=60"
    caplog.set_level(logging.DEBUG)
    eng = sa.create_engine(url, echo="debug", connect_args=FAST)
    try:
        with eng.connect() as connection:
            count = connection.execute(sa.text(f"SELECT count(*) FROM {DROPLETS}")).scalar()
        assert count == 40
        assert "SELECT count(*)" in caplog.text  # the engine's log was captured, and is scanned
        for text in (repr(eng), str(eng.url), eng.url.render_as_string(), caplog.text):
            assert sandbox.token not in text
        assert "***" in str(eng.url)
        assert eng.url.password == sandbox.token  # still usable to build the engine again
        assert eng.url.query["cache_ttl"] == "60"
    finally:
        eng.dispose()


def test_token_and_api_url_come_from_the_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", sandbox.token)
    monkeypatch.setenv("DIGITALOCEAN_API_URL", sandbox.url)
    eng = sa.create_engine("sqlprovider://")
    try:
        with eng.connect() as connection:
            rows = connection.execute(sa.text(f"SELECT id FROM {DROPLETS}")).all()
        assert len(rows) == 40
    finally:
        eng.dispose()


def test_url_options_are_converted() -> None:
    options = connect_options(
        make_url(
            "sqlprovider://:tok@/data/own.db?api_url=http://127.0.0.1:9&max_concurrency=3"
            "&cache_ttl=1.5&allow_http=true&retries=2"
        )
    )
    assert options == {
        "token": "tok",
        "database": "data/own.db",
        "api_url": "http://127.0.0.1:9",
        "max_concurrency": 3,
        "cache_ttl": 1.5,
        "allow_http": True,
        "retries": 2,
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlprovider://api.digitalocean.com", "no host"),
        ("sqlprovider://tok@/", "password slot"),
        ("sqlprovider://?colour=red", "unknown sqlprovider URL option 'colour'"),
        ("sqlprovider://?max_concurrency=many", "malformed"),
        ("sqlprovider://:a@/?token=b", "two different tokens"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(sa.exc.ArgumentError, match=message):
        connect_options(make_url(url))


def test_url_path_is_a_database_file_whose_tables_reflect_as_sqlite(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "own.db"
    options = {**_fast(sandbox), "token": sandbox.token}
    eng = sa.create_engine(f"sqlprovider:///{path}", connect_args=options)
    try:
        frame = pd.read_sql(f"SELECT id, name, memory FROM {DROPLETS}", eng)
        assert frame.to_sql("snap", eng, index=False) == 40
        with eng.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TABLE notes (id INTEGER PRIMARY KEY, droplet INTEGER REFERENCES "
                    "snap(id), body TEXT)"
                )
            )
            connection.execute(sa.text("CREATE INDEX notes_droplet ON notes (droplet)"))
        inspector = sa.inspect(eng)
        assert inspector.get_table_names() == [*RESOURCES, "notes", "snap"]
        assert inspector.get_pk_constraint("notes")["constrained_columns"] == ["id"]
        assert inspector.get_foreign_keys("notes")[0]["referred_table"] == "snap"
        assert [i["name"] for i in inspector.get_indexes("notes")] == ["notes_droplet"]
        snap = sa.Table("snap", sa.MetaData(), autoload_with=eng)
        with eng.begin() as connection:
            assert connection.execute(snap.update().values(memory=0)).rowcount == 40
    finally:
        eng.dispose()
    copy = sqlite3.connect(path)
    try:
        assert copy.execute("SELECT count(*), max(memory) FROM snap").fetchone() == (40, 0)
    finally:
        copy.close()


def test_pandas_also_reads_a_plain_dbapi_connection(sandbox: Sandbox) -> None:
    sql = f"SELECT id, name FROM {DROPLETS} WHERE region = ? ORDER BY id"
    with connect_to(sandbox) as connection:
        with pytest.warns(UserWarning, match="SQLAlchemy"):  # pandas' note on non-sqlite3 DB-APIs
            frame = pd.read_sql(sql, connection, params=("nyc1",))
        expected = connection.execute(sql, ("nyc1",)).fetchall()
    assert [tuple(r) for r in frame.itertuples(index=False)] == expected
    assert expected
