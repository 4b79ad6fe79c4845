"""The one estimator: EXPLAIN API, `query --estimate` and the `sync --every` budget check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.engine.estimate import (
    FROM_TOTAL,
    MADE,
    PER_KEY,
    EndpointCount,
    Estimate,
    paced_seconds,
)
from sqlprovider.integrations.budget import check_interval
from sqlprovider.sandbox import Sandbox
from sqlprovider.spec import load_providers
from tests.conftest import connect_to

JOIN = (
    "SELECT b.id FROM digitalocean.compute.droplets d "
    "JOIN digitalocean.compute.droplet_backups b ON b.droplet_id = d.id"
)

#: DigitalOcean's limits, as the provider spec declares them.
DEFAULT_WINDOWS = load_providers()[0].rate_limits


def _explain(con: sqlprovider.Connection, sql: str) -> dict[tuple[str, str], int]:
    rows = con.execute("EXPLAIN API " + sql).fetchall()
    assert rows[-1][0] == "total"
    assert rows[-1][1] == sum(r[1] for r in rows[:-1])
    return {(r[0], r[3]): r[1] for r in rows[:-1]}


def test_a_join_is_estimated_from_its_list_calls_alone_and_matches_the_real_run(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=2, droplets=450)  # three pages of regular Droplets
    with connect_to(sb) as con:
        counts = _explain(con, JOIN)
        sent = [(r.path, r.query.get("page")) for r in sb.requests]
        sb.clear_requests()
        con.execute(JOIN).fetchall()
        made = len(sb.requests)
    # Only list pages went out: every page of droplets, whose ids the join needs as keys.
    assert all(path == "/v2/droplets" for path, _ in sent)
    # 3 regular pages (and page 1 once more, to see a shift across pages) + 1 GPU page
    assert counts[("GET /v2/droplets", MADE)] == len(sent) == 5
    assert counts[("GET /v2/droplets/{droplet_id}/backups", PER_KEY)] == 450
    assert sum(counts.values()) == made


def test_a_plain_list_is_estimated_from_its_first_page_and_meta_total(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=2, droplets=450)
    with connect_to(sb) as con:
        counts = _explain(con, "SELECT name FROM digitalocean.compute.droplets")
        sent = len(sb.requests)
        sb.clear_requests()
        con.execute("SELECT name FROM digitalocean.compute.droplets").fetchall()
        made = len(sb.requests)
    # Pages 2 and 3 of the regular list, and its page 1 once more (a shift across pages).
    assert counts == {("GET /v2/droplets", MADE): 2, ("GET /v2/droplets", FROM_TOTAL): 3}
    assert sent == 2
    assert made == 5


def test_the_total_row_gives_time_under_the_rate_limit_and_the_budget_share(
    sandbox: Sandbox,
) -> None:
    with connect_to(sandbox, rate_limits=DEFAULT_WINDOWS) as con:
        cursor = con.execute("EXPLAIN API " + JOIN)
        names = [d[0] for d in cursor.description or ()]
        total = cursor.fetchall()[-1]
    assert names == ["endpoint", "requests", "estimated", "basis", "seconds", "budget_share"]
    assert total[1] == 42  # 40 Droplets' backups and two list pages
    assert total[2] == 1  # the keyed part is an estimate
    assert total[5] == pytest.approx(42 / 5000, abs=1e-4)
    assert "250/min, 5,000/h" in total[3]
    assert "0.8% of 5,000/h" in total[3]


def test_a_statement_that_writes_is_not_estimated(con: sqlprovider.Connection) -> None:
    con.execute("CREATE TEMP TABLE seen (x)")
    with pytest.raises(sqlprovider.NotSupportedError, match="only a statement that reads"):
        con.execute("EXPLAIN API INSERT INTO seen VALUES (1)")
    assert con.execute("SELECT count(*) FROM seen").fetchall() == [(0,)]


def test_query_estimate_prints_the_calls_instead_of_running(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["query", "--sandbox", "--estimate", "--format", "csv", JOIN])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0] == "endpoint,requests,estimated,basis,seconds,budget_share"
    assert out[2].startswith('GET /v2/droplets/{droplet_id}/backups,20,1,"estimate: ')


def test_paced_seconds_counts_full_windows() -> None:
    assert paced_seconds(250, DEFAULT_WINDOWS) == 0
    assert paced_seconds(1040, DEFAULT_WINDOWS) == 240  # five minute windows: four waits
    assert paced_seconds(5001, DEFAULT_WINDOWS) == 3600


def test_an_interval_over_the_budget_share_is_refused_with_the_numbers() -> None:
    estimate = Estimate((EndpointCount("GET /v2/x", 1040, PER_KEY),), DEFAULT_WINDOWS)
    with pytest.raises(sqlprovider.InterfaceError) as caught:
        check_interval(estimate, 300, share=1.0)
    assert str(caught.value).startswith(
        "about 1,040 requests every 5 min = 12,480/h, over 5,000/h (100% of 5,000/h)"
    )
    assert "at least 13 min" in str(caught.value)
    fine = check_interval(estimate, 3600, share=0.5)
    assert fine == "about 1,040 requests every 1 h = 1,040/h, within 2,500/h (50% of 5,000/h)"


def test_sync_every_refuses_before_writing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "estate.db"
    status = main(
        ["sync", "--sandbox", "--sandbox-droplets", "300", "--into", str(path), "--every", "1m"]
    )
    assert status == 1
    assert "requests every 1 min" in capsys.readouterr().err
    assert not path.exists()
