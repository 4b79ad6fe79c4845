"""Many keyed policy lookups answered from the policies list, when that takes fewer requests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sqlprovider.sandbox import Sandbox
from tests.conftest import connect_to
from tests.crawl import get

D = "digitalocean.compute.droplets"
P = "digitalocean.compute.droplet_backup_policies"


def truth(sb: Sandbox, ids: list[int]) -> list[tuple[int, int, str | None]]:
    """Each Droplet's policy, one get at a time, straight from the API."""
    rows = []
    for droplet in ids:
        policy = get(sb, f"/v2/droplets/{droplet}/backups/policy")["policy"]
        rows.append(
            (droplet, int(policy["backup_enabled"]), policy.get("backup_policy", {}).get("plan"))
        )
    return sorted(rows)


def test_a_join_over_every_droplet_reads_the_list_instead_of_one_get_each(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(droplets=250)  # two list pages of 200
    ids = sorted(sb.account.droplet_ids())
    with connect_to(sb) as con:
        sb.clear_requests()
        cur = con.execute(
            f"SELECT d.id, p.backup_enabled, p.backup_policy_plan FROM {D} d JOIN {P} p ON p.droplet_id = d.id"
        )
        rows = sorted(cur.fetchall())
        paths = [r.path for r in sb.requests]
    assert rows == truth(sb, ids)
    assert paths.count("/v2/droplets/backups/policies") == 2
    assert not any(p.endswith("/backups/policy") for p in paths)
    pages = [-(-len(sb.account.droplet_ids(gpu=kind)) // 200) for kind in (False, True)]
    # The regular and GPU Droplet lists (a list of several pages reads its first page once
    # more, to see a record shifted across pages), then the two pages of policies.
    rechecks = sum(1 for count in pages if count > 1)
    assert cur.stats["requests"] == len(paths) == sum(pages) + rechecks + 2


def test_keys_far_down_a_long_list_use_one_get_each(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(droplets=700)  # four list pages
    last = sorted(sb.account.droplet_ids())[-2:]
    with connect_to(sb) as con:
        sb.clear_requests()
        rows = con.execute(
            f"SELECT droplet_id, backup_enabled, backup_policy_plan FROM {P} WHERE droplet_id IN ({last[0]}, {last[1]})"
        ).fetchall()
        paths = [r.path for r in sb.requests]
    assert sorted(rows) == truth(sb, last)
    # Page 1 of the list, then two gets: cheaper than the three remaining pages.
    assert paths.count("/v2/droplets/backups/policies") == 1
    assert sorted(p for p in paths if p.endswith("/policy")) == sorted(
        f"/v2/droplets/{i}/backups/policy" for i in last
    )


@pytest.mark.parametrize("ids", ["1, 2, 3", "1, 2"])
def test_droplets_the_list_lacks_are_confirmed_by_their_own_gets(
    make_sandbox: Callable[..., Sandbox], ids: str
) -> None:
    # A record can shift across a page boundary while the list is read: absent from the list is
    # not yet absent, so each such key gets its own get (the API's 404 says so).
    sb = make_sandbox(droplets=30)
    with connect_to(sb) as con:
        sb.clear_requests()
        rows = con.execute(f"SELECT * FROM {P} WHERE droplet_id IN ({ids})").fetchall()
        assert rows == []
        paths = [r.path for r in sb.requests]
        gets = [f"/v2/droplets/{i}/backups/policy" for i in ids.split(", ")]
        assert paths[0] == "/v2/droplets/backups/policies"
        assert sorted(paths[1:]) == sorted(gets)


def test_one_key_is_one_get(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(droplets=30)
    droplet = sb.account.droplet_ids()[0]
    with connect_to(sb) as con:
        sb.clear_requests()
        rows = con.execute(f"SELECT droplet_id FROM {P} WHERE droplet_id = {droplet}").fetchall()
    assert rows == [(droplet,)]
    assert [r.path for r in sb.requests] == [f"/v2/droplets/{droplet}/backups/policy"]
