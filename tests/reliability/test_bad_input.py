"""Bad input fails before any request leaves the process, with the class and a hint to fix it.

One table: each row is a statement (and its bound parameters) a user could plausibly type, the
exception class it must raise, and a pattern its message must contain that says what to do.
Every row also checks that the sandbox saw zero requests: a refused value never reaches the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import sqlprovider
from sqlprovider.errors import (
    DataError,
    InvalidParameterError,
    MissingKeyColumnError,
    ProgrammingError,
)
from sqlprovider.sandbox import Sandbox

from .helpers import BACKUPS, CLUSTERS, DB_BACKUPS, DROPLETS, POLICIES, UNLIMITED, connect_to

WHOLE = r"must be a whole number of at least 1 \(for example droplet_id = 3164444\)"
UUID = r"must be a uuid \(for example database_cluster_uuid = '9cc10173-"
NULL_HINT = r"matches no row .* for example droplet_id = 3164444"
KEY_HINT = r"needs droplet_id in WHERE .* WHERE droplet_id = 3164444"

#: (id, sql, parameters, exception class, pattern the message must contain)
CASES: list[tuple[str, str, Any, type[Exception], str]] = [
    (
        "text id",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = 'abc'",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "zero id",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = 0",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "negative id",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = -5",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "fractional id",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = 1.5",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "fractional bound",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = ?",
        (2.25,),
        InvalidParameterError,
        WHOLE,
    ),
    (
        "huge literal",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = 99999999999999999999999",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "int64 max + 1 text",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = '9223372036854775808'",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    ("huge bound", f"SELECT * FROM {BACKUPS} WHERE droplet_id = ?", (2**70,), DataError, r"64-bit"),
    (
        "blob id",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = ?",
        (b"12",),
        InvalidParameterError,
        WHOLE,
    ),
    (
        "policy id slash",
        f"SELECT * FROM {POLICIES} WHERE droplet_id = '1/../account'",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "dotdot",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = '..'",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "question mark",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = '5?page=2'",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "hash",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = '5#x'",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "encoded slash",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = '5%2F6'",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "space",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = '5 6'",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "trailing newline",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = ?",
        ("5\n",),
        InvalidParameterError,
        WHOLE,
    ),
    (
        "IN with one bad",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id IN (5, 'x')",
        None,
        InvalidParameterError,
        WHOLE,
    ),
    (
        "uuid too short",
        f"SELECT * FROM {DB_BACKUPS} WHERE database_cluster_uuid = 'abc'",
        None,
        InvalidParameterError,
        UUID,
    ),
    (
        "uuid with slash",
        f"SELECT * FROM {DB_BACKUPS} WHERE database_cluster_uuid = ?",
        ("9cc10173-e9ea-4176-9dbc-a4cee4c4ff30/../x",),
        InvalidParameterError,
        UUID,
    ),
    (
        "uuid not hex",
        f"SELECT * FROM {DB_BACKUPS} WHERE database_cluster_uuid = ?",
        ("zcc10173-e9ea-4176-9dbc-a4cee4c4ff30",),
        InvalidParameterError,
        UUID,
    ),
    (
        "uuid encoded",
        f"SELECT * FROM {DB_BACKUPS} WHERE database_cluster_uuid = ?",
        ("9cc10173%2Fe9ea-4176-9dbc-a4cee4c4ff30",),
        InvalidParameterError,
        UUID,
    ),
    (
        "uuid as number",
        f"SELECT * FROM {DB_BACKUPS} WHERE database_cluster_uuid = 42",
        None,
        InvalidParameterError,
        UUID,
    ),
    (
        "page zero",
        f"SELECT * FROM {DROPLETS} WHERE page = 0",
        None,
        InvalidParameterError,
        r"page must be a whole number of at least 1",
    ),
    (
        "page negative",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = 5 AND page = -1",
        None,
        InvalidParameterError,
        r"page must be a whole number of at least 1",
    ),
    (
        "per_page zero",
        f"SELECT * FROM {DROPLETS} WHERE per_page = 0",
        None,
        InvalidParameterError,
        r"per_page must be a whole number from 1 to 200",
    ),
    (
        "per_page 201",
        f"SELECT * FROM {POLICIES} WHERE per_page = 201",
        None,
        InvalidParameterError,
        r"per_page must be a whole number from 1 to 200",
    ),
    (
        "per_page text",
        f"SELECT * FROM {DROPLETS} WHERE per_page = 'ten'",
        None,
        InvalidParameterError,
        r"per_page must be a whole number from 1 to 200",
    ),
    (
        "type not enum",
        f"SELECT * FROM {DROPLETS} WHERE type = 'gpu'",
        None,
        InvalidParameterError,
        r"type must be one of 'droplets', 'gpus'",
    ),
    (
        "name with newline",
        f"SELECT * FROM {DROPLETS} WHERE name = ?",
        ("web\nHost: evil",),
        InvalidParameterError,
        r"text without control characters",
    ),
    (
        "tag as blob",
        f"SELECT * FROM {CLUSTERS} WHERE tag_name = ?",
        (b"prod",),
        InvalidParameterError,
        r"tag_name must be text",
    ),
    (
        "lone surrogate",
        f"SELECT * FROM {DROPLETS} WHERE name = ?",
        ("web-\ud800",),
        DataError,
        r"not valid Unicode",
    ),
    (
        "= NULL",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id = NULL",
        None,
        InvalidParameterError,
        NULL_HINT,
    ),
    (
        "IN (NULL)",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id IN (NULL)",
        None,
        InvalidParameterError,
        NULL_HINT,
    ),
    (
        "IS NULL",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id IS NULL",
        None,
        InvalidParameterError,
        NULL_HINT,
    ),
    (
        "NULL = key, aliased",
        f"SELECT * FROM {BACKUPS} b WHERE NULL = b.droplet_id",
        None,
        InvalidParameterError,
        NULL_HINT,
    ),
    (
        "policy = NULL",
        f"SELECT * FROM {POLICIES} WHERE droplet_id = NULL",
        None,
        InvalidParameterError,
        NULL_HINT,
    ),
    (
        "uuid = NULL",
        f"SELECT * FROM {DB_BACKUPS} WHERE database_cluster_uuid = NULL",
        None,
        InvalidParameterError,
        r"for example database_cluster_uuid = '9cc10173",
    ),
    ("missing key", f"SELECT * FROM {BACKUPS}", None, MissingKeyColumnError, KEY_HINT),
    (
        "key only by range",
        f"SELECT * FROM {BACKUPS} WHERE droplet_id > 5",
        None,
        MissingKeyColumnError,
        KEY_HINT,
    ),
    (
        "missing uuid",
        f"SELECT * FROM {DB_BACKUPS}",
        None,
        MissingKeyColumnError,
        r"database_cluster_uuid = '9cc10173",
    ),
    (
        "unknown table",
        "SELECT * FROM digitalocean.compute.dropletz",
        None,
        ProgrammingError,
        r"SHOW RESOURCES",
    ),
    (
        "unknown plain table",
        "SELECT * FROM nowhere",
        None,
        ProgrammingError,
        r"no such table: nowhere.*SHOW RESOURCES",
    ),
    (
        "unknown column",
        f"SELECT nope FROM {DROPLETS}",
        None,
        ProgrammingError,
        r"no such column: nope.*DESCRIBE",
    ),
    (
        "does not parse",
        f"SELEC * FROM {DROPLETS}",
        None,
        ProgrammingError,
        r'near "SELEC": syntax error.*(check|Check)',
    ),
    (
        "unclosed quote",
        f"SELECT * FROM {DROPLETS} WHERE name = 'x",
        None,
        ProgrammingError,
        r"unrecognized token.*(check|Check)",
    ),
]


@pytest.fixture(scope="module")
def quiet_sandbox() -> Iterator[Sandbox]:
    """A sandbox of this module's own, so the request log holds only this module's requests."""
    with Sandbox(seed=3, droplets=8, clusters=4, **UNLIMITED) as sb:
        yield sb


@pytest.fixture(scope="module")
def quiet_con(quiet_sandbox: Sandbox) -> Iterator[sqlprovider.Connection]:
    """One connection for every row (a refused statement must leave it usable)."""
    con = connect_to(quiet_sandbox)
    yield con
    con.close()


@pytest.mark.parametrize(
    ("sql", "parameters", "error", "hint"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_refused_with_a_hint_and_sends_nothing(
    quiet_sandbox: Sandbox,
    quiet_con: sqlprovider.Connection,
    sql: str,
    parameters: Any,
    error: type[Exception],
    hint: str,
) -> None:
    quiet_sandbox.clear_requests()
    with pytest.raises(error) as caught:
        quiet_con.execute(sql, parameters).fetchall()
    assert type(caught.value) is error, f"expected exactly {error.__name__}, got {caught.value!r}"
    assert isinstance(caught.value, sqlprovider.Error)
    assert re.search(hint, str(caught.value), re.S), str(caught.value)
    assert quiet_sandbox.requests == [], "a refused statement must not reach the API"
    # The connection stays usable after the refusal.
    assert quiet_con.execute("SELECT 1").fetchall() == [(1,)]


@pytest.mark.parametrize("value", [None, float("nan")], ids=["None", "NaN"])
def test_a_bound_null_key_matches_nothing_and_sends_nothing(
    quiet_sandbox: Sandbox, quiet_con: sqlprovider.Connection, value: Any
) -> None:
    """SQLite binds None and NaN as NULL; `droplet_id = NULL` is false, so no row and no call."""
    quiet_sandbox.clear_requests()
    rows = quiet_con.execute(f"SELECT * FROM {BACKUPS} WHERE droplet_id = ?", (value,)).fetchall()
    assert rows == []
    assert quiet_sandbox.requests == []
