"""Within one statement an unkeyed list is read once, however often a join rescans it.

SQLite's nested loop scans the inner table once per outer row; `snapshots` has no key to
push down, so without reuse `volumes JOIN snapshots` sent one `GET /v2/snapshots` per volume.
The pages are kept within a byte bound (`reuse_bytes`); past it they are read again and the
statement's stats say so (`reuse_dropped`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlprovider.sandbox import Sandbox
from tests.conftest import connect_to

JOIN = (
    "SELECT v.name, s.id FROM digitalocean.compute.volumes v "
    "JOIN digitalocean.compute.snapshots s ON s.resource_id = v.id ORDER BY v.name, s.id"
)


def _gets(sb: Sandbox, path: str) -> int:
    return sum(1 for r in sb.requests if r.method == "GET" and r.path == path)


def test_a_rescanned_list_is_read_once_per_statement(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=11, droplets=40)
    with connect_to(sb) as con:
        cursor = con.execute(JOIN)
        rows = cursor.fetchall()
        volumes = con.execute("SELECT count(*) FROM digitalocean.compute.volumes").fetchall()
    assert rows
    assert volumes[0][0] > 2  # so that a rescan per volume would show
    assert _gets(sb, "/v2/snapshots") == 1
    assert cursor.stats["requests"] == 2
    assert cursor.stats["reused"] >= volumes[0][0] - 1
    assert cursor.stats["reuse_dropped"] == 0


def test_past_the_byte_bound_pages_are_read_again_and_the_stats_say_so(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=11, droplets=40)
    with connect_to(sb) as con:
        expected = con.execute(JOIN).fetchall()
    sb.clear_requests()
    with connect_to(sb, reuse_bytes=10) as con:
        cursor = con.execute(JOIN)
        rows = cursor.fetchall()
    assert rows == expected
    assert cursor.stats["reuse_dropped"] >= 2
    assert cursor.stats["reused"] == 0
    assert _gets(sb, "/v2/snapshots") > 1


def test_reuse_ends_with_the_statement(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(seed=11, droplets=40)
    with connect_to(sb) as con:
        con.execute("SELECT count(*) FROM digitalocean.compute.snapshots").fetchall()
        second = con.execute("SELECT count(*) FROM digitalocean.compute.snapshots")
        second.fetchall()
    assert _gets(sb, "/v2/snapshots") == 2  # each statement reads the API itself
    assert second.stats["reused"] == 0
