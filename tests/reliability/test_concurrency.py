"""Threads: one connection each gives the single-thread answers; one shared fails clearly.

Eight threads, each with its own connection (half of them reading through the shared response
cache, half not), run 100 queries each at once against one sandbox and must see exactly what a
single thread sees. A connection used from two threads at the same time must refuse the second
with InterfaceError (never corrupt or mix results) and stay usable afterwards.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import sqlprovider
from sqlprovider.errors import InterfaceError
from sqlprovider.sandbox import Sandbox

from .helpers import BACKUPS, CLUSTERS, DB_BACKUPS, DROPLETS, POLICIES, UNLIMITED, connect_to

pytestmark = pytest.mark.timeout(120)

QUERIES = [
    f"SELECT id, name, type FROM {DROPLETS} WHERE per_page = 4",
    f"SELECT count(*), sum(memory) FROM {DROPLETS}",
    f"SELECT droplet_id, backup_policy_plan FROM {POLICIES} WHERE per_page = 3",
    f"SELECT p.droplet_id, b.id FROM {POLICIES} p JOIN {BACKUPS} b "
    "ON b.droplet_id = p.droplet_id WHERE p.backup_enabled",
    f"SELECT d.id, count(b.id) FROM {DROPLETS} d LEFT JOIN {BACKUPS} b ON b.droplet_id = d.id "
    "GROUP BY d.id",
    f"SELECT c.name, count(k.created_at) FROM {CLUSTERS} c JOIN {DB_BACKUPS} k "
    "ON k.database_cluster_uuid = c.id WHERE c.engine NOT IN ('redis', 'valkey') GROUP BY c.id",
    f"SELECT engine, count(*) FROM {CLUSTERS} GROUP BY engine",
]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=13, droplets=12, clusters=5, **UNLIMITED) as sandbox:
        yield sandbox


def _rows(con: sqlprovider.Connection, sql: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_eight_threads_with_own_connections_match_one_thread(sb: Sandbox) -> None:
    with connect_to(sb) as con:
        expected = {sql: _rows(con, sql) for sql in QUERIES}
    assert all(expected.values())

    def worker(number: int) -> list[str]:
        rng = random.Random(number)
        problems = []
        with connect_to(sb, cache_ttl=60.0 if number % 2 else 0.0, max_concurrency=4) as con:
            for _ in range(100):
                sql = rng.choice(QUERIES)
                got = _rows(con, sql)
                if got != expected[sql]:
                    problems.append(f"thread {number}: {sql}: {len(got)} rows")
        return problems

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(8)))
    assert [p for problems in results for p in problems] == []


def test_a_connection_used_by_two_threads_at_once_refuses_the_second(
    make_sandbox: Any,
) -> None:
    slow = make_sandbox(seed=13, droplets=6, clusters=2, latency_ms=400, **UNLIMITED)
    con = connect_to(slow)
    started = threading.Event()
    first: dict[str, Any] = {}

    def long_query() -> None:
        started.set()
        first["rows"] = con.execute(f"SELECT count(*) FROM {DROPLETS}").fetchall()

    thread = threading.Thread(target=long_query)
    thread.start()
    started.wait()
    for _ in range(500):  # until the first statement holds the connection (it then waits 0.4 s)
        if con._busy.locked():
            break
        threading.Event().wait(0.001)
    with pytest.raises(InterfaceError, match="another thread.*one connection per thread"):
        con.execute("SELECT 1").fetchall()
    thread.join(10)
    assert not thread.is_alive()
    assert first["rows"] == [(6,)], "the first thread's statement was not disturbed"
    # Afterwards the connection works again, from either thread.
    assert con.execute("SELECT 2").fetchall() == [(2,)]
    assert con.execute(f"SELECT count(*) FROM {POLICIES}").fetchall() == [(6,)]
    con.close()
