"""UPDATE droplet_backup_policies through DB-API against the sandbox: opt-in, validated whole,
transactional, previewable; every claim is checked on the sandbox's request log."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import sqlprovider
from sqlprovider.sandbox import Sandbox

from ..conftest import connect_to

POLICIES = "digitalocean.compute.droplet_backup_policies"


def posts(sb: Sandbox) -> list[str]:
    return [r.path for r in sb.requests if r.method == "POST"]


def disabled(sb: Sandbox) -> list[int]:
    return [i for i in sb.account.droplet_ids() if sb.account.droplet(i).policy is None]  # type: ignore[union-attr]


def enabled(sb: Sandbox) -> list[int]:
    return [i for i in sb.account.droplet_ids() if sb.account.droplet(i).policy is not None]  # type: ignore[union-attr]


@pytest.fixture
def sb(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(seed=5, droplets=20)


def test_writes_are_refused_unless_allowed_and_the_refusal_says_how(sb: Sandbox) -> None:
    with (
        connect_to(sb) as con,
        pytest.raises(sqlprovider.NotSupportedError, match="allow_writes=True") as caught,
    ):
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 0")
    assert "--allow-writes" in str(caught.value)
    assert "?allow_writes=1" in str(caught.value)
    assert posts(sb) == []


def test_update_enables_backups_with_one_action_per_changed_row(sb: Sandbox) -> None:
    off = disabled(sb)
    assert len(off) >= 3
    with connect_to(sb, allow_writes=True) as con:
        sb.clear_requests()
        cur = con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE NOT backup_enabled")
        assert cur.rowcount == len(off)
        changes = con.execute(
            "SELECT key, action, method, path, body, status, action_id FROM sqlprovider_changes"
        ).fetchall()
    assert sorted(posts(sb)) == sorted(f"/v2/droplets/{i}/actions" for i in off)
    assert {c[1] for c in changes} == {"enable_backups"}
    assert {c[4] for c in changes} == {'{"type":"enable_backups"}'}
    assert all(c[5] == "accepted" and isinstance(c[6], int) for c in changes)
    assert disabled(sb) == []


def test_transitions_choose_the_action_and_rows_already_as_asked_send_nothing(
    sb: Sandbox,
) -> None:
    on, off = enabled(sb), disabled(sb)
    daily = [i for i in on if sb.account.droplet(i).policy.plan == "daily"]  # type: ignore[union-attr]
    with connect_to(sb, allow_writes=True) as con:
        sb.clear_requests()
        cur = con.execute(
            f"UPDATE {POLICIES} SET backup_policy_plan = 'daily' WHERE droplet_id IN "
            f"({', '.join(map(str, on))})"
        )
        # Only the weekly ones change: the daily ones are already as asked.
        assert cur.rowcount == len(on) - len(daily)
        actions = {row[0] for row in con.execute("SELECT action FROM sqlprovider_changes")}
        assert actions == {"change_backup_policy"}
        sb.clear_requests()
        cur = con.execute(f"UPDATE {POLICIES} SET backup_enabled = 0 WHERE droplet_id = {on[0]}")
        assert cur.rowcount == 1
        assert con.execute("SELECT body FROM sqlprovider_changes").fetchall() == [
            ('{"type":"disable_backups"}',)
        ]
        sb.clear_requests()
        cur = con.execute(f"UPDATE {POLICIES} SET backup_enabled = 0 WHERE droplet_id = {off[0]}")
        assert cur.rowcount == 0
    assert posts(sb) == []


def test_enable_with_a_policy_sends_the_policy_given(sb: Sandbox) -> None:
    target = disabled(sb)[0]
    with connect_to(sb, allow_writes=True) as con:
        con.execute(
            f"UPDATE {POLICIES} SET backup_enabled = 1, backup_policy_plan = 'weekly', "
            f"backup_policy_weekday = 'TUE', backup_policy_hour = 8 WHERE droplet_id = ?",
            (target,),
        )
        (body,) = con.execute("SELECT body FROM sqlprovider_changes").fetchone()  # type: ignore[misc]
        row = con.execute(
            f"SELECT backup_policy_plan, backup_policy_weekday, backup_policy_hour FROM {POLICIES} "
            "WHERE droplet_id = ?",
            (target,),
        ).fetchone()
    assert body == (
        '{"backup_policy":{"hour":8,"plan":"weekly","weekday":"TUE"},"type":"enable_backups"}'
    )
    assert row == ("weekly", "TUE", 8)


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("backup_policy_hour = 5", "backup_policy_hour = 5 is not allowed"),
        ("backup_policy_plan = 'hourly'", "backup_policy_plan = 'hourly' is not allowed"),
        ("backup_policy_weekday = 'SUN'", "backup_policy_weekday = 'SUN' is not allowed"),
        ("backup_enabled = 'yes'", "backup_enabled must be 0 or 1"),
        ("next_backup_window_start = '2026-01-01'", "cannot set next_backup_window_start"),
    ],
)
def test_one_invalid_row_refuses_the_whole_statement_and_sends_nothing(
    sb: Sandbox, assignment: str, message: str
) -> None:
    with connect_to(sb, allow_writes=True) as con:
        sb.clear_requests()
        # Every Droplet, so that valid rows come before the invalid ones.
        with pytest.raises(sqlprovider.DatabaseError, match=message) as caught:
            con.execute(f"UPDATE {POLICIES} SET {assignment} WHERE backup_policy_plan = 'daily'")
    assert "nothing was sent" in str(caught.value).lower()
    assert posts(sb) == []


def test_rollback_sends_nothing_and_commit_sends_every_staged_statement(sb: Sandbox) -> None:
    on, off = enabled(sb), disabled(sb)
    with connect_to(sb, allow_writes=True) as con:
        sb.clear_requests()
        con.execute("BEGIN")
        cur = con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {off[0]}")
        assert cur.rowcount == 1
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 0 WHERE droplet_id = {on[0]}")
        assert posts(sb) == []
        con.rollback()
        assert posts(sb) == []
        con.execute("BEGIN")
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {off[0]}")
        # A failing statement inside the transaction drops only its own rows.
        with pytest.raises(sqlprovider.ProgrammingError):
            con.execute(f"UPDATE {POLICIES} SET backup_policy_hour = 3")
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 0 WHERE droplet_id = {on[0]}")
        assert posts(sb) == []
        con.commit()
    assert sorted(posts(sb)) == sorted(
        [f"/v2/droplets/{off[0]}/actions", f"/v2/droplets/{on[0]}/actions"]
    )


def test_dry_run_reports_the_exact_calls_and_sends_nothing(sb: Sandbox) -> None:
    on = enabled(sb)
    with connect_to(sb, dry_run=True) as con:
        sb.clear_requests()
        cur = con.execute(f"UPDATE {POLICIES} SET backup_enabled = 0")
        assert cur.rowcount == len(on)
        rows = con.execute("SELECT method, path, body, status FROM sqlprovider_changes").fetchall()
    assert sorted(rows) == sorted(
        ("POST", f"/v2/droplets/{i}/actions", '{"type":"disable_backups"}', "planned") for i in on
    )
    assert posts(sb) == []
    assert enabled(sb) == on


def test_delete_and_insert_into_a_table_without_them_are_refused_with_the_writes_that_exist(
    sb: Sandbox,
) -> None:
    with connect_to(sb, allow_writes=True) as con:
        for sql in (
            f"DELETE FROM {POLICIES}",
            "DELETE FROM digitalocean.compute.droplets",
            "INSERT INTO digitalocean.compute.droplets (name) VALUES ('x')",
        ):
            with pytest.raises(
                sqlprovider.NotSupportedError, match="the writes that exist are"
            ) as caught:
                con.execute(sql)
            assert f"UPDATE {POLICIES} (backup_enabled" in str(caught.value)
    assert posts(sb) == []


def test_a_write_makes_cached_reads_stale(sb: Sandbox) -> None:
    target = disabled(sb)[0]
    query = f"SELECT backup_enabled FROM {POLICIES} WHERE droplet_id = {target}"
    with connect_to(sb, allow_writes=True, cache_ttl=600) as con:
        assert con.execute(query).fetchone() == (0,)
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {target}")
        assert con.execute(query).fetchone() == (1,)


def test_executemany_counts_the_rows_each_write_changed(sb: Sandbox) -> None:
    off = disabled(sb)[:3]
    with connect_to(sb, allow_writes=True) as con:
        cur = con.cursor()
        cur.executemany(
            f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = ?",
            [(off[0],), (off[1],), (off[2],), (off[0],)],
        )
        assert cur.rowcount == 3


def test_a_write_that_matches_no_row_is_still_refused_when_writes_are_off(sb: Sandbox) -> None:
    with (
        connect_to(sb) as con,
        pytest.raises(sqlprovider.NotSupportedError, match="writes are off"),
    ):
        con.execute(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = 999999999")
    assert posts(sb) == []
