"""Fan-out, pagination, retries, pacing, cache and accounting, observed from the sandbox's side.

Each test counts what the sandbox received (`sb.requests`) rather than trusting the engine's own
counters, and none asserts on wall time: concurrency is shown by a server-side count of requests
in flight at once, which does not depend on how fast the machine is.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import sqlprovider
from sqlprovider.cli.main import main as cli_main
from sqlprovider.engine import vtable
from sqlprovider.sandbox import Faults, Sandbox
from tests.conftest import connect_to

B = "digitalocean.compute.droplet_backups"
P = "digitalocean.compute.droplet_backup_policies"
D = "digitalocean.compute.droplets"
NO_PACING = ((1_000_000, 60.0),)


def _count_in_flight(sb: Sandbox) -> Callable[[], int]:
    """Wrap the sandbox's request pipeline; return a reader of the most requests seen at once."""
    service = sb._service  # the pipeline every request goes through; wrapped for this test only
    original = service.respond
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def respond(*args: Any, **kwargs: Any) -> Any:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                state["now"] -= 1

    service.respond = respond  # type: ignore[method-assign]
    return lambda: state["most"]


@pytest.fixture
def filters(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Record the (idxStr, arguments) of every Filter call SQLite makes on a sqlprovider table."""
    seen: list[tuple[str, tuple[Any, ...]]] = []
    original = vtable.ResourceCursor.Filter

    def recording(
        self: vtable.ResourceCursor, indexnum: int, indexname: str | None, args: tuple[Any, ...]
    ) -> None:
        seen.append((indexname or "", args))
        original(self, indexnum, indexname, args)

    monkeypatch.setattr(vtable.ResourceCursor, "Filter", recording)
    return seen


def _calls(sb: Sandbox) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    return Counter((r.path, tuple(sorted(r.query.items()))) for r in sb.requests)


# --- fan-out ---------------------------------------------------------------------------------


def test_in_list_reaches_one_filter_as_a_set_and_runs_in_parallel(
    make_sandbox: Callable[..., Sandbox], filters: list[tuple[str, tuple[Any, ...]]]
) -> None:
    sb = make_sandbox(droplets=20, latency_ms=100)
    most_at_once = _count_in_flight(sb)
    ids = sb.account.droplet_ids(gpu=False)[:8]
    with connect_to(sb, max_concurrency=8, rate_limits=NO_PACING) as con:
        rows = con.execute(
            f"SELECT droplet_id, id FROM {B} WHERE droplet_id IN ({','.join(map(str, ids))})"
        ).fetchall()
    expected = sum(sb.account.droplet(i).backup_count for i in ids)  # type: ignore[union-attr]
    assert len(rows) == expected
    assert len(sb.requests) == 8
    assert len(filters) == 1
    assert filters[0][0].partition("|")[0] == "droplet_id"  # then the columns read
    assert filters[0][1][0] == set(ids)
    # 8 calls of 100 ms each, 8 workers: all of them wait in the server at the same time.
    assert most_at_once() >= 6


def test_identical_keys_in_one_statement_are_requested_once(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(droplets=20)
    x, y = sb.account.droplet_ids(gpu=False)[:2]
    with connect_to(sb, rate_limits=NO_PACING) as con:
        once = con.execute(f"SELECT id FROM {B} WHERE droplet_id IN ({x}, {x})").fetchall()
        assert [r.path for r in sb.requests] == [f"/v2/droplets/{x}/backups"]
        sb.clear_requests()
        # The outer side repeats x: SQLite calls Filter for x twice, the API is asked once.
        repeated = con.execute(
            f"SELECT j.value, b.id FROM json_each('[{x}, {y}, {x}]') j "
            f"JOIN {B} b ON b.droplet_id = j.value"
        ).fetchall()
    assert sorted(r.path for r in sb.requests) == sorted(
        [f"/v2/droplets/{x}/backups", f"/v2/droplets/{y}/backups"]
    )
    x_rows = [r for r in repeated if r[0] == x]
    assert len(x_rows) == 2 * len(once)
    assert len(repeated) == len(x_rows) + sb.account.droplet(y).backup_count  # type: ignore[union-attr]


def test_join_form_makes_the_in_form_calls_and_returns_the_sequential_rows(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(droplets=30)
    with connect_to(sb, rate_limits=NO_PACING) as con:
        joined = con.execute(
            f"SELECT b.droplet_id, b.id, b.name, b.created_at FROM {D} d "
            f"JOIN {B} b ON b.droplet_id = d.id"
        ).fetchall()
        join_calls = _calls(sb)
        sb.clear_requests()
        listed = con.execute(
            f"SELECT b.droplet_id, b.id, b.name, b.created_at FROM {B} b "
            f"WHERE b.droplet_id IN (SELECT id FROM {D})"
        ).fetchall()
        in_calls = _calls(sb)
        ids = [row[0] for row in con.execute(f"SELECT id FROM {D}").fetchall()]
        sequential = []
        for droplet_id in ids:  # the plan a user would write by hand: one statement per Droplet
            sequential += con.execute(
                f"SELECT droplet_id, id, name, created_at FROM {B} WHERE droplet_id = ?",
                (droplet_id,),
            ).fetchall()
    assert join_calls == in_calls
    assert max(join_calls.values()) == 1
    assert len(join_calls) == 2 + 30  # one list per Droplet type, one backups call per Droplet
    assert sorted(joined) == sorted(listed) == sorted(sequential)
    assert len(sequential) > 0


# --- pagination and retries -------------------------------------------------------------------


def test_a_full_list_reads_every_page_at_200_and_an_explicit_page_reads_one(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(droplets=450)
    with connect_to(sb, rate_limits=NO_PACING) as con:
        everything = con.execute(f"SELECT droplet_id FROM {P}").fetchall()
        full = sorted(int(r.query["page"]) for r in sb.requests)
        sizes = {r.query.get("per_page") for r in sb.requests}
        sb.clear_requests()
        page_two = con.execute(f"SELECT droplet_id FROM {P} WHERE page = 2").fetchall()
        one = [(r.path, r.query) for r in sb.requests]
    assert len(everything) == 450
    assert full == [1, 1, 2, 3]  # page 1 once more with the last: a shift across pages shows
    assert sizes == {"200"}
    assert one == [("/v2/droplets/backups/policies", {"page": "2", "per_page": "200"})]
    assert [r[0] for r in page_two] == sb.account.droplet_ids()[200:400]


def test_a_failed_page_is_retried_alone(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(droplets=450)
    sb.faults = Faults(schedule={2: "503"}, path_pattern="/policies$")
    with connect_to(sb, rate_limits=NO_PACING) as con:
        cur = con.execute(f"SELECT droplet_id FROM {P}")
        rows = cur.fetchall()
        stats = cur.stats
    pages = Counter(int(r.query["page"]) for r in sb.requests)
    failed = [int(r.query["page"]) for r in sb.requests if r.status == 503]
    assert len(failed) == 1
    # Page 1 comes first, alone; request 2 (the one that fails) is any of the pages sent
    # together after it, page 1's second read among them.
    assert (int(sb.requests[0].query["page"]), sb.requests[0].status) == (1, 200)
    # Page 1 is read once more with the last pages (a record shifted across pages shows).
    assert pages == Counter({1: 2, 2: 1, 3: 1}) + Counter({failed[0]: 1})
    assert len(rows) == 450
    assert stats["retries"] == 1
    assert stats["requests"] == len(sb.requests) == 5


def test_no_partial_result_when_a_page_keeps_failing(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(droplets=450)
    sb.faults = Faults(schedule={n: "503" for n in range(2, 20)}, path_pattern="/policies$")
    with connect_to(sb, retries=2, rate_limits=NO_PACING) as con:
        with pytest.raises(sqlprovider.OperationalError, match="no partial result"):
            con.execute(f"SELECT droplet_id FROM {P}").fetchall()
        with pytest.raises(sqlprovider.OperationalError):
            con.execute(f"SELECT count(*) FROM {P}").fetchall()
    assert any(r.status == 200 for r in sb.requests)  # page 1 did arrive; its rows were not kept


# --- pacing -----------------------------------------------------------------------------------


def test_a_fan_out_over_the_rate_limit_is_paced_without_429(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    # 20 requests per 0.5 s, and 2 + 40 requests to make: three windows.
    sb = make_sandbox(droplets=40, per_minute=20, per_hour=100_000, minute_seconds=0.5)
    with connect_to(sb, rate_limits=((20, 0.5), (5000, 3600.0))) as con:
        cur = con.execute(f"SELECT b.id FROM {B} b WHERE b.droplet_id IN (SELECT id FROM {D})")
        rows = cur.fetchall()
        stats = cur.stats
    statuses = Counter(r.status for r in sb.requests)
    assert statuses == Counter({200: 42})
    assert stats["rate_limited"] == 0
    assert stats["throttle_seconds"] > 0
    expected = sum(
        sb.account.droplet(i).backup_count  # type: ignore[union-attr]
        for i in sb.account.droplet_ids()
    )
    assert len(rows) == expected


# --- cache ------------------------------------------------------------------------------------


def test_cache_serves_a_repeated_statement_until_cleared(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(droplets=250)
    sql = f"SELECT droplet_id, backup_policy_plan FROM {P}"
    with connect_to(sb, cache_ttl=600, rate_limits=NO_PACING) as con:
        first = con.execute(sql)
        first_rows = first.fetchall()
        assert first.stats["requests"] == len(sb.requests) == 2
        sb.clear_requests()
        second = con.execute(sql)
        assert second.fetchall() == first_rows
        assert second.stats["requests"] == 0
        assert second.stats["cache_hits"] == 2
        assert sb.requests == []
        assert con.execute("SELECT sqlprovider_cache_clear()").fetchone()[0] >= 2
        con.execute(sql).fetchall()
        assert len(sb.requests) == 2
        assert con.clear_cache() >= 2
        con.execute(sql).fetchall()
        assert len(sb.requests) == 4


def test_ttl_zero_never_reuses_an_answer(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(droplets=20)
    sql = f"SELECT droplet_id FROM {P}"
    with connect_to(sb, cache_ttl=0, rate_limits=NO_PACING) as con:
        for _ in range(3):
            cur = con.execute(sql)
            cur.fetchall()
            assert cur.stats["requests"] == 1
            assert cur.stats["cache_hits"] == 0
    assert len(sb.requests) == 3


# --- accounting -------------------------------------------------------------------------------


def test_stats_agree_across_cursor_metadata_table_and_cli(
    make_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    sb = make_sandbox(droplets=20)
    sql = f"SELECT b.id FROM {B} b WHERE b.droplet_id IN (SELECT id FROM {D})"
    with connect_to(sb, rate_limits=NO_PACING) as con:
        cur = con.execute(sql)
        cur.fetchall()
        from_cursor = cur.stats
        from_table = dict(con.execute("SELECT name, value FROM sqlprovider_stats").fetchall())
    received = len(sb.requests)
    assert from_cursor["requests"] == received == 2 + 20
    assert from_cursor["pages"] == received
    assert from_cursor["bytes"] > 0
    assert from_table["requests"] == from_cursor["requests"]
    assert from_table["pages"] == from_cursor["pages"]
    assert from_table["bytes"] == from_cursor["bytes"]
    sb.clear_requests()
    code = cli_main(["query", "--api-url", sb.url, "--token", sb.token, "--stats", sql])
    err = capsys.readouterr().err
    assert code == 0
    line = next(x for x in err.splitlines() if x.startswith("stats: "))
    printed = json.loads(line.removeprefix("stats: "))
    assert printed["requests"] == len(sb.requests) == received
    assert printed["pages"] == received
