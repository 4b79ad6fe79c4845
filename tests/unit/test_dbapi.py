"""PEP 249 behaviour the compliance suite leaves loose, checked on plain SQLite (no sockets).

BI tools and pandas rely on these details: `description` present for an empty result,
`rowcount` of writes, `arraysize` driving `fetchmany()`, errors after close, context managers,
and type objects matching the declared SQLite types in `description`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

import sqlprovider
from sqlprovider import types


@pytest.fixture
def plain(monkeypatch: pytest.MonkeyPatch) -> Iterator[sqlprovider.Connection]:
    """An in-memory connection without a token, holding table t with 7 rows."""
    for name in ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    connection = sqlprovider.connect()
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE t (a INTEGER, b TEXT, c REAL, d BLOB, e TIMESTAMP)")
    cursor.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
        [(i, f"n{i}", i / 2, b"\x00\x01", datetime.date(2024, 1, i + 1)) for i in range(7)],
    )
    yield connection
    connection.close()


def test_description_is_present_for_an_empty_result(plain: sqlprovider.Connection) -> None:
    cursor = plain.execute("SELECT a, b FROM t WHERE a < 0")
    assert [d[0] for d in cursor.description or ()] == ["a", "b"]
    assert all(len(d) == 7 for d in cursor.description or ())
    assert cursor.fetchall() == []
    assert cursor.fetchone() is None


def test_description_is_none_after_a_statement_without_rows(plain: sqlprovider.Connection) -> None:
    cursor = plain.execute("CREATE TABLE u (x)")
    assert cursor.description is None
    with pytest.raises(sqlprovider.ProgrammingError, match="no result set"):
        cursor.fetchall()


def test_fetch_before_any_execute_is_an_error() -> None:
    with sqlprovider.connect() as connection:
        cursor = connection.cursor()
        with pytest.raises(sqlprovider.Error):
            cursor.fetchone()
        with pytest.raises(sqlprovider.Error):
            cursor.fetchmany(2)


def test_rowcount_counts_written_rows_and_is_minus_one_for_select(
    plain: sqlprovider.Connection,
) -> None:
    cursor = plain.cursor()
    cursor.execute("UPDATE t SET b = 'x' WHERE a < 3")
    assert cursor.rowcount == 3
    cursor.execute("DELETE FROM t WHERE a = 6")
    assert cursor.rowcount == 1
    cursor.executemany("INSERT INTO t (a) VALUES (?)", [(10,), (11,)])
    assert cursor.rowcount == 2
    cursor.execute("SELECT a FROM t")
    assert cursor.rowcount == -1


def test_rowcount_survives_closing_the_cursor(plain: sqlprovider.Connection) -> None:
    cursor = plain.execute("UPDATE t SET b = 'y' WHERE a >= 5")
    cursor.close()
    assert cursor.rowcount == 2  # SQLAlchemy reads it after closing a cursor without rows


def test_lastrowid_is_the_inserted_rowid(plain: sqlprovider.Connection) -> None:
    cursor = plain.execute("INSERT INTO t (a) VALUES (99)")
    found = plain.execute("SELECT a FROM t WHERE rowid = ?", (cursor.lastrowid,)).fetchall()
    assert found == [(99,)]


def test_fetchmany_takes_arraysize_rows_by_default(plain: sqlprovider.Connection) -> None:
    cursor = plain.cursor()
    assert cursor.arraysize == 1
    cursor.execute("SELECT a FROM t ORDER BY a")
    assert cursor.fetchmany() == [(0,)]
    cursor.arraysize = 4
    assert cursor.fetchmany() == [(1,), (2,), (3,), (4,)]
    assert cursor.fetchmany(10) == [(5,), (6,)]
    assert cursor.fetchmany() == []


def test_rows_are_tuples_and_the_cursor_iterates(plain: sqlprovider.Connection) -> None:
    cursor = plain.execute("SELECT a, b FROM t WHERE a < 2 ORDER BY a")
    assert list(cursor) == [(0, "n0"), (1, "n1")]


def test_dates_are_bound_as_iso_text(plain: sqlprovider.Connection) -> None:
    rows = plain.execute("SELECT e FROM t WHERE e = ?", (datetime.date(2024, 1, 3),)).fetchall()
    assert rows == [("2024-01-03",)]


def test_closing_a_connection_twice_raises_interface_error() -> None:
    connection = sqlprovider.connect()
    connection.close()
    with pytest.raises(sqlprovider.InterfaceError):
        connection.close()
    with pytest.raises(sqlprovider.InterfaceError):
        connection.cursor()


def test_a_closed_cursor_refuses_work(plain: sqlprovider.Connection) -> None:
    cursor = plain.execute("SELECT a FROM t")
    cursor.close()
    with pytest.raises(sqlprovider.InterfaceError):
        cursor.fetchall()
    with pytest.raises(sqlprovider.InterfaceError):
        cursor.execute("SELECT 1")


def test_cursor_of_a_closed_connection_refuses_work() -> None:
    connection = sqlprovider.connect()
    cursor = connection.cursor()
    connection.close()
    with pytest.raises(sqlprovider.InterfaceError):
        cursor.execute("SELECT 1")


def test_context_managers_close_cursor_and_connection() -> None:
    with sqlprovider.connect() as connection:
        with connection.cursor() as cursor:
            assert cursor.execute("SELECT 1").fetchall() == [(1,)]
        with pytest.raises(sqlprovider.InterfaceError):
            cursor.execute("SELECT 1")
    with pytest.raises(sqlprovider.InterfaceError):
        connection.cursor()


def test_commit_and_rollback_apply_to_own_tables(plain: sqlprovider.Connection) -> None:
    plain.execute("BEGIN")
    plain.execute("DELETE FROM t")
    plain.rollback()
    assert plain.execute("SELECT count(*) FROM t").fetchone() == (7,)
    plain.execute("BEGIN")
    plain.execute("DELETE FROM t WHERE a = 0")
    plain.commit()
    assert plain.execute("SELECT count(*) FROM t").fetchone() == (6,)
    plain.commit()  # nothing open: a no-op, as PEP 249 allows


def test_type_objects_match_declared_types_in_description(plain: sqlprovider.Connection) -> None:
    cursor = plain.execute("SELECT a, b, c, d, e, a + 1 AS f FROM t")
    codes = {d[0]: d[1] for d in cursor.description or ()}
    assert codes["a"] == sqlprovider.NUMBER
    assert codes["a"] == sqlprovider.ROWID
    assert codes["b"] == sqlprovider.STRING
    assert codes["c"] == sqlprovider.NUMBER
    assert codes["c"] != sqlprovider.STRING
    assert codes["d"] == sqlprovider.BINARY
    assert codes["e"] == sqlprovider.DATETIME
    assert codes["b"] != sqlprovider.NUMBER
    assert codes["f"] is None  # an expression has no declared type


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("INTEGER", "INTEGER"),
        ("BIGINT", "INTEGER"),
        ("VARCHAR(20)", "TEXT"),
        ("JSON", "NUMERIC"),
        ("BOOLEAN", "NUMERIC"),
        ("DOUBLE PRECISION", "REAL"),
        ("", "BLOB"),
        (None, "BLOB"),
    ],
)
def test_affinity_follows_sqlite_rules(declared: str | None, expected: str) -> None:
    assert types.affinity(declared) == expected


def test_type_constructors_build_standard_values() -> None:
    assert sqlprovider.Date(2024, 2, 29) == datetime.date(2024, 2, 29)
    assert sqlprovider.Timestamp(2024, 2, 29, 1, 2, 3).hour == 1
    assert sqlprovider.Binary(b"ab") == b"ab"
    ticks = datetime.datetime(2024, 2, 29, 12, 0).timestamp()
    assert sqlprovider.TimestampFromTicks(ticks) == datetime.datetime(2024, 2, 29, 12, 0)
    assert sqlprovider.DateFromTicks(ticks) == datetime.date(2024, 2, 29)
    assert sqlprovider.TimeFromTicks(ticks) == datetime.time(12, 0)


def test_module_globals_follow_pep_249() -> None:
    assert sqlprovider.apilevel == "2.0"
    assert sqlprovider.threadsafety == 1
    assert sqlprovider.paramstyle == "qmark"
    assert issubclass(sqlprovider.ProgrammingError, sqlprovider.DatabaseError)
    assert issubclass(sqlprovider.InterfaceError, sqlprovider.Error)
    assert sqlprovider.Connection.ProgrammingError is sqlprovider.ProgrammingError
