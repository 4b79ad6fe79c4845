"""INSERT INTO droplet_snapshots: one snapshot action per row, from VALUES or SELECT; the new
snapshot appears once its action completes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import sqlprovider
from sqlprovider.sandbox import Faults, Sandbox

from ..conftest import connect_to

SNAPSHOTS = "digitalocean.compute.droplet_snapshots"


@pytest.fixture
def sb(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(seed=5, droplets=20)


def posts(sb: Sandbox) -> list[str]:
    return [r.path for r in sb.requests if r.method == "POST"]


def test_insert_values_takes_one_snapshot_and_it_appears(sb: Sandbox) -> None:
    target = sb.account.droplet_ids()[0]
    with connect_to(sb, allow_writes=True, cache_ttl=600) as con:
        before = con.execute(f"SELECT name FROM {SNAPSHOTS} WHERE droplet_id = ?", (target,))
        assert ("before-upgrade",) not in before.fetchall()
        cur = con.execute(
            f"INSERT INTO {SNAPSHOTS} (droplet_id, name) VALUES (?, 'before-upgrade')", (target,)
        )
        assert cur.rowcount == 1
        change = con.execute("SELECT key, action, body FROM sqlprovider_changes").fetchone()
        after = con.execute(f"SELECT name FROM {SNAPSHOTS} WHERE droplet_id = ?", (target,))
        assert ("before-upgrade",) in after.fetchall()
    assert change == (
        f"droplet_id={target}",
        "snapshot",
        '{"name":"before-upgrade","type":"snapshot"}',
    )
    assert posts(sb) == [f"/v2/droplets/{target}/actions"]


def test_insert_select_sends_one_action_per_row(sb: Sandbox) -> None:
    chosen = sb.account.droplet_ids()[:4]
    with connect_to(sb, allow_writes=True) as con:
        cur = con.execute(
            f"INSERT INTO {SNAPSHOTS} (droplet_id, name) SELECT id, 'nightly-' || id "
            f"FROM digitalocean.compute.droplets WHERE id IN ({', '.join(map(str, chosen))})"
        )
        assert cur.rowcount == 4
    assert sorted(posts(sb)) == sorted(f"/v2/droplets/{i}/actions" for i in chosen)
    assert all(sb.actions.count(i, "snapshot") == 1 for i in chosen)


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        (
            f"INSERT INTO {SNAPSHOTS} (droplet_id) VALUES (1)",
            sqlprovider.ProgrammingError,
            "needs a value for name",
        ),
        (
            f"INSERT INTO {SNAPSHOTS} (droplet_id, name, size_gigabytes) VALUES (1, 'x', 3)",
            sqlprovider.NotSupportedError,
            "cannot set size_gigabytes",
        ),
        (
            f"INSERT INTO {SNAPSHOTS} (droplet_id, name) VALUES (0, 'x')",
            sqlprovider.ProgrammingError,
            "droplet_id must be",
        ),
        (
            f"DELETE FROM {SNAPSHOTS} WHERE droplet_id IN (SELECT id FROM digitalocean.compute.droplets)",
            sqlprovider.NotSupportedError,
            "INSERT INTO " + SNAPSHOTS,
        ),
    ],
)
def test_bad_inserts_are_refused_and_send_nothing(
    sb: Sandbox, sql: str, error: type[Exception], message: str
) -> None:
    with connect_to(sb, allow_writes=True) as con, pytest.raises(error, match=message):
        con.execute(sql)
    assert posts(sb) == []


def test_a_lost_snapshot_answer_is_confirmed_not_repeated(sb: Sandbox) -> None:
    target = sb.account.droplet_ids()[1]
    with connect_to(sb, allow_writes=True) as con:
        sb.faults = Faults(schedule={1: "apply-reset"}, path_pattern=r"^/v2/droplets/\d+/actions$")
        con.execute(f"INSERT INTO {SNAPSHOTS} (droplet_id, name) VALUES ({target}, 'once')")
    assert sb.actions.count(target, "snapshot") == 1
