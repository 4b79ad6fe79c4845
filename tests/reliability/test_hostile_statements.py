"""A statement's calls end with it: interrupts return, queued calls stop, shared ones survive.

Each test runs a small hostile server of its own (`hostile.py`): slow answers keep requests
queued or in flight while another thread interrupts, and the request log shows what was sent.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import sqlprovider

from .helpers import BACKUPS, DROPLETS
from .hostile import TOKEN, Answer, HostileServer, Request, connect, droplet, page_of

pytestmark = pytest.mark.timeout(60)


def _run_interrupted(con: sqlprovider.Connection, sql: str, after: float) -> dict[str, Any]:
    """Run `sql`, interrupt it from another thread after `after` s; report how both ended."""
    outcome: dict[str, Any] = {}

    def interrupt() -> None:
        time.sleep(after)
        started = time.monotonic()
        con.interrupt()
        outcome["interrupt_seconds"] = time.monotonic() - started

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()
    try:
        con.execute(sql).fetchall()
    except BaseException as exc:  # noqa: BLE001 - the test inspects whatever escaped
        outcome["error"] = exc
    thread.join(timeout=5)
    outcome["interrupt_returned"] = not thread.is_alive()
    return outcome


def test_interrupt_returns_while_a_list_request_is_queued() -> None:
    # Two list calls (regular and GPU Droplets) on one worker: the second waits in the queue.
    def slow_lists(request: Request) -> Answer:
        answer = page_of([droplet(1)], request)
        answer.delay = 1.5
        return answer

    with HostileServer(slow_lists) as server:
        con = connect(server, max_concurrency=1)
        outcome = _run_interrupted(con, f"SELECT count(*) FROM {DROPLETS}", after=0.3)
        assert outcome["interrupt_returned"], "interrupt() deadlocked"
        assert outcome["interrupt_seconds"] < 1.0
        assert isinstance(outcome.get("error"), sqlprovider.OperationalError)
        con.close()


def test_interrupted_queued_keyed_lookups_end_in_a_sqlprovider_error() -> None:
    # The outer list answers its ids in descending order, the prefetch queues them ascending:
    # the nested loop's first key is the last queued, so the cursor waits on a queued future.
    ids = [5, 4, 3, 2, 1]

    def behaviour(request: Request) -> Answer:
        if request.path == "/v2/droplets":
            return page_of(
                [droplet(i) for i in ids] if request.query["type"] != "gpus" else [], request
            )
        return Answer({"backups": [], "links": {}, "meta": {"total": 0}}, delay=0.5)

    with HostileServer(behaviour) as server:
        con = connect(server, max_concurrency=1)
        sql = f"SELECT d.id, b.id FROM {DROPLETS} d JOIN {BACKUPS} b ON b.droplet_id = d.id"
        outcome = _run_interrupted(con, sql, after=0.7)
        assert outcome["interrupt_returned"]
        error = outcome.get("error")
        assert isinstance(error, sqlprovider.Error), repr(error)
        assert "interrupted" in str(error)
        con.close()


def test_interrupting_one_connection_spares_another_waiting_on_the_same_request() -> None:
    # The first attempt fails (500), so connection A's request sits in its retry backoff when A
    # is interrupted; B asked for the very same page meanwhile and waits on A's request.
    attempts: list[float] = []
    lock = threading.Lock()

    def behaviour(request: Request) -> Answer:
        with lock:
            attempts.append(time.monotonic())
            first = len(attempts) == 1
        if first:
            return Answer({"id": "server_error", "message": "try again"}, status=500)
        return page_of([droplet(1), droplet(2)], request)

    with HostileServer(behaviour) as server:
        a = connect(server, backoff=2.0, retries=2)
        b = connect(server, backoff=0.01, retries=2)
        sql = f"SELECT id FROM {DROPLETS} WHERE type = 'droplets' ORDER BY id"
        got: dict[str, Any] = {}

        def run_b() -> None:
            time.sleep(0.3)
            try:
                got["rows"] = b.execute(sql).fetchall()
            except sqlprovider.Error as exc:
                got["error"] = exc

        thread = threading.Thread(target=run_b, daemon=True)
        thread.start()
        outcome = _run_interrupted(a, sql, after=0.6)
        thread.join(timeout=10)
        assert isinstance(outcome.get("error"), sqlprovider.OperationalError)
        assert got.get("rows") == [(1,), (2,)], got
        a.close()
        b.close()


# --- item 14: a statement's end stops its calls; a prefetch respects a LIMIT ------------------


def _droplets_with_backups(count: int, delay: float) -> Any:
    ids = list(range(1, count + 1))

    def behaviour(request: Request) -> Answer:
        if request.path == "/v2/droplets":
            gpus = request.query.get("type") == "gpus"
            return page_of([] if gpus else [droplet(i) for i in ids], request)
        number = int(request.path.split("/")[3])
        backup = {"id": 1000 + number, "name": f"b{number}", "type": "backup"}
        return Answer({"backups": [backup], "links": {}, "meta": {"total": 1}}, delay=delay)

    return behaviour


def _backups_calls(server: HostileServer) -> int:
    return sum(
        1 for path in server.paths() if path.startswith("/v2/droplets/") and "backups" in path
    )


JOIN = f"SELECT d.id, b.id FROM {DROPLETS} d JOIN {BACKUPS} b ON b.droplet_id = d.id"


def test_a_join_with_limit_one_sends_only_the_calls_its_row_needs() -> None:
    with HostileServer(_droplets_with_backups(30, delay=0.05)) as server:
        with connect(server, max_concurrency=2) as con:
            rows = con.execute(JOIN + " LIMIT 1").fetchall()
            time.sleep(0.5)  # time enough for a prefetch to keep sending
        assert len(rows) == 1
        assert _backups_calls(server) <= 2


def test_a_statement_closed_early_cancels_its_queued_calls() -> None:
    with HostileServer(_droplets_with_backups(30, delay=0.1)) as server:
        with connect(server, max_concurrency=2) as con:
            cursor = con.execute(JOIN)
            assert cursor.fetchone() is not None
            cursor.close()
            sent = _backups_calls(server)
            time.sleep(0.6)
            assert con.execute("SELECT 42").fetchone() == (42,)
        assert _backups_calls(server) <= sent + 2  # only what was already on the wire
        assert _backups_calls(server) < 30


# --- item 17: prefetch only the keys the outer query produces -----------------------------------


def test_a_prefetch_reads_only_keys_a_subquery_lets_through() -> None:
    uuids = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(1, 5)]
    engines = ["pg", "redis", "pg", "redis"]
    clusters = [
        {"id": u, "name": f"c{n}", "engine": e}
        for n, (u, e) in enumerate(zip(uuids, engines, strict=True))
    ]

    def behaviour(request: Request) -> Answer:
        if request.path == "/v2/databases":
            return Answer({"databases": clusters})
        uuid = request.path.split("/")[3]
        if engines[uuids.index(uuid)] == "redis":
            return Answer({"id": "unprocessable_entity", "message": "not supported"}, status=422)
        return Answer({"backups": [{"created_at": "2026-01-01T00:00:00Z", "size_gigabytes": 1}]})

    c, b = "digitalocean.databases.clusters", "digitalocean.databases.backups"
    sql = (
        f"SELECT c.name, b.created_at FROM {c} c JOIN {b} b ON b.database_cluster_uuid = c.id "
        f"WHERE c.id IN (SELECT id FROM {c} WHERE engine = 'pg')"
    )
    with HostileServer(behaviour) as server, connect(server) as con:
        rows = sorted(con.execute(sql).fetchall())
    assert rows == [("c0", "2026-01-01T00:00:00Z"), ("c2", "2026-01-01T00:00:00Z")]
    asked = sorted(p.split("/")[3] for p in server.paths() if p.endswith("/backups"))
    assert asked == [uuids[0], uuids[2]]


# --- issue 11: one hook for "a statement starts" ---------------------------------------------


def test_an_attach_user_with_an_exec_trace_of_their_own_keeps_statements_apart() -> None:
    import apsw

    from sqlprovider.engine.attach import attach

    def behaviour(request: Request) -> Answer:
        gpus = request.query.get("type") == "gpus"
        return page_of([] if gpus else [droplet(i) for i in range(1, 4)], request)

    with HostileServer(behaviour) as server:
        db = apsw.Connection(":memory:")
        session = attach(
            db, token=TOKEN, api_url=server.url, rate_limits=((1_000_000, 60.0),), retries=1
        )
        seen: list[str] = []
        db.exec_trace = lambda cursor, sql, bindings: seen.append(sql) or True
        first = list(db.execute(f'SELECT id FROM "{DROPLETS}"'))
        list(db.execute("SELECT 1"))
        assert len(first) == 3
        assert seen  # the user's own trace ran
        assert session.last_stats()["requests"] == 2  # the first statement's (both lists)
        assert session.statement.stats.requests == 0  # the second's own, sent nothing
        session.close()
        db.close()
