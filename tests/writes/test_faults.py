"""Writes under faults: a lost answer is confirmed before any repeat (no duplicate action), a
partial failure is an error listing what changed, errored actions fail a waited write."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import sqlprovider
from sqlprovider.sandbox import Faults, Sandbox

from ..conftest import connect_to

POLICIES = "digitalocean.compute.droplet_backup_policies"
ACTIONS = r"^/v2/droplets/\d+/actions$"


def disabled(sb: Sandbox) -> list[int]:
    return [i for i in sb.account.droplet_ids() if sb.account.droplet(i).policy is None]  # type: ignore[union-attr]


def posts(sb: Sandbox) -> list[str]:
    return [r.path for r in sb.requests if r.method == "POST"]


@pytest.fixture
def sb(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(seed=5, droplets=20)


@pytest.mark.parametrize("kind", ["apply-500", "apply-reset"])
def test_a_lost_answer_is_confirmed_not_repeated(sb: Sandbox, kind: str) -> None:
    target = disabled(sb)[0]
    with connect_to(sb, allow_writes=True) as con:
        sb.clear_requests()
        sb.faults = Faults(schedule={1: kind}, path_pattern=ACTIONS)
        cur = con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {target}")
        assert cur.rowcount == 1
        row = con.execute("SELECT status, action_id, attempts FROM sqlprovider_changes").fetchone()
    assert posts(sb) == [f"/v2/droplets/{target}/actions"]
    assert sb.actions.count(target, "enable_backups") == 1
    assert row is not None
    assert row[0] == "accepted"
    assert isinstance(row[1], int)
    assert sb.account.droplet(target).policy is not None  # type: ignore[union-attr]


def test_a_5xx_that_did_not_apply_is_repeated_once_the_actions_show_nothing_started(
    sb: Sandbox,
) -> None:
    target = disabled(sb)[0]
    with connect_to(sb, allow_writes=True) as con:
        sb.clear_requests()
        sb.faults = Faults(schedule={1: "500"}, path_pattern=ACTIONS)
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {target}")
    assert posts(sb) == [f"/v2/droplets/{target}/actions"] * 2
    # The confirm read came between the two POSTs.
    methods = [r.method for r in sb.requests if r.path == f"/v2/droplets/{target}/actions"]
    assert methods[:3] == ["POST", "GET", "POST"]
    assert sb.actions.count(target) == 1


def test_a_429_is_retried_because_it_was_not_processed(sb: Sandbox) -> None:
    target = disabled(sb)[0]
    with connect_to(sb, allow_writes=True) as con:
        sb.clear_requests()
        sb.faults = Faults(schedule={1: "429"}, path_pattern=ACTIONS, retry_after=1)
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {target}")
    assert len(posts(sb)) == 2
    assert sb.actions.count(target) == 1


def test_partial_failure_is_an_error_listing_what_changed_and_what_did_not(sb: Sandbox) -> None:
    off = disabled(sb)[:4]
    with connect_to(sb, allow_writes=True, retries=1, max_concurrency=1) as con:
        sb.clear_requests()
        # Every request to the second Droplet's actions (POSTs and confirms) fails.
        sb.faults = Faults(
            rate=1.0, kinds=("500",), path_pattern=rf"^/v2/droplets/{off[1]}/actions$"
        )
        with pytest.raises(sqlprovider.WriteError) as caught:
            con.execute(
                f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id IN "
                f"({', '.join(map(str, off))})"
            )
        rows = dict(con.execute("SELECT key, status FROM sqlprovider_changes").fetchall())
    message = str(caught.value)
    assert "went through for 3 of 4 rows" in message
    assert f"droplet_id={off[1]} enable_backups: unknown" in message
    assert rows[f"droplet_id={off[1]}"] == "unknown"
    assert [rows[f"droplet_id={i}"] for i in (off[0], off[2], off[3])] == ["accepted"] * 3
    assert {c["status"] for c in caught.value.changes} == {"accepted", "unknown"}
    # Unknown is never repeated: one POST for it.
    assert posts(sb).count(f"/v2/droplets/{off[1]}/actions") == 1


def test_wait_follows_actions_and_reports_an_errored_one_as_a_failure(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=5, droplets=20, action_seconds=0.3)
    off = disabled(sb)[:2]
    with connect_to(sb, allow_writes=True, wait=True, wait_timeout=20, max_concurrency=1) as con:
        sb.faults = Faults(schedule={2: "errored"}, path_pattern=ACTIONS)
        with pytest.raises(sqlprovider.WriteError, match="errored") as caught:
            con.execute(
                f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id IN ({off[0]}, {off[1]})"
            )
        statuses = sorted(r[0] for r in con.execute("SELECT status FROM sqlprovider_changes"))
    assert statuses == ["completed", "errored"]
    assert "went through for 1 of 2 rows" in str(caught.value)
    assert sum(sb.account.droplet(i).policy is not None for i in off) == 1  # type: ignore[union-attr]


def test_without_wait_a_write_returns_while_actions_are_in_progress(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=5, droplets=20, action_seconds=30)
    target = disabled(sb)[0]
    with connect_to(sb, allow_writes=True) as con:
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {target}")
        # The API has not applied it yet, and the read says so.
        enabled = con.execute(f"SELECT backup_enabled FROM {POLICIES} WHERE droplet_id = {target}")
        assert enabled.fetchone() == (0,)
    assert sb.actions.all()[-1]["status"] == "in-progress"


def test_a_confirm_never_takes_an_earlier_action_of_this_process_for_the_lost_one(
    sb: Sandbox,
) -> None:
    target = disabled(sb)[0]
    enable = f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {target}"
    with connect_to(sb, allow_writes=True) as con:
        con.execute(enable)
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 0 WHERE droplet_id = {target}")
        # Within the same second, the same action type: only the claim tells them apart.
        sb.faults = Faults(schedule={1: "500"}, path_pattern=ACTIONS)
        con.execute(enable)
    assert sb.actions.count(target, "enable_backups") == 2
    assert sb.account.droplet(target).policy is not None  # type: ignore[union-attr]


def test_an_interrupted_write_accounts_for_every_call(make_sandbox: Callable[..., Sandbox]) -> None:
    import threading

    sb = make_sandbox(seed=5, droplets=20)
    off = disabled(sb)
    # A pacer of 2 requests per 5 s: the policy read and one POST go out, the rest queue.
    with connect_to(sb, allow_writes=True, rate_limits=((2, 5.0),)) as con:
        timer = threading.Timer(1.0, con.interrupt)
        timer.start()
        with pytest.raises(sqlprovider.WriteError, match="interrupted") as caught:
            con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE NOT backup_enabled")
        timer.cancel()
    statuses = [c["status"] for c in caught.value.changes]
    assert len(statuses) == len(off)
    assert statuses.count("accepted") == len(posts(sb)) == 1
    assert statuses.count("not sent") == len(off) - 1
