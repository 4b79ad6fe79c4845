"""A join's keyed calls start a window ahead of SQLite's nested loop, not all before it.

Counted from the sandbox's side: when the first joined row comes back, only a window of
backups calls (and a few Droplet pages) has been sent, yet the whole join still makes each
call once and returns every row.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlprovider.engine.prefetch import KEYS_AHEAD_PER_WORKER
from sqlprovider.sandbox import Sandbox
from tests.conftest import connect_to

D = "digitalocean.compute.droplets"
B = "digitalocean.compute.droplet_backups"
JOIN = f"SELECT d.id, b.id FROM {D} d JOIN {B} b ON b.droplet_id = d.id"
NO_PACING = ((1_000_000, 60.0),)


def _backups_calls(sb: Sandbox) -> list[str]:
    return [r.path for r in sb.requests if r.path.endswith("/backups")]


def _droplet_pages(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.path == "/v2/droplets")


def test_the_first_joined_row_comes_before_most_keyed_calls_are_sent(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(droplets=1_000, clusters=1)
    with connect_to(sb, max_concurrency=4, rate_limits=NO_PACING) as con:
        cursor = con.execute(JOIN)
        first = cursor.fetchone()
        # Calls started (sent, queued or answered and kept), whatever the workers' pace.
        started = len(con.session.statement._memo)
        pages_early = _droplet_pages(sb)
        rows = [first, *cursor.fetchall()]
    window = KEYS_AHEAD_PER_WORKER * 4
    assert started <= window + 8  # the window, a few Droplet pages, the loop's first call
    assert pages_early <= 5  # of 6 pages of regular Droplets, and the GPU list
    calls = _backups_calls(sb)
    assert len(calls) == len(set(calls)) == 1_000  # every Droplet's backups, each once
    expected = {
        (droplet, backup["id"])
        for droplet in sb.account.droplet_ids()
        for backup in sb.account.backups_page(droplet, 0, 10_000)[1]  # type: ignore[index]
    }
    assert set(rows) == expected
    assert len(rows) == len(expected)


def test_a_join_closed_early_stops_its_key_query_and_the_next_statement_runs(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(droplets=600, clusters=1)
    with connect_to(sb, max_concurrency=4, rate_limits=NO_PACING) as con:
        cursor = con.execute(JOIN)
        cursor.fetchmany(3)
        cursor.close()
        assert con.execute(f"SELECT count(*) FROM {D}").fetchone() == (600,)
        sent = len(_backups_calls(sb))
        assert con.execute(JOIN).fetchall()  # the same join again, from its start
    assert sent < 100
