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
from .hostile import Answer, HostileServer, Request, connect, droplet, page_of

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
