"""Figure (a): requests made versus the fewest the API allows, for typical queries.

The minimum of each query is derived here from the sandbox's account data (`sb.account`), with
the API's rules written out by hand (200 items per page at most, one backups call per Droplet
or cluster, GPU Droplets listed only with `type=gpus`); nothing is taken from sqlprovider's
planner. The count made is read twice, from `cursor.stats['requests']` and from the requests
the sandbox received, and the two must agree.

Beyond the minimum, a list read in full over several pages reads its first page once more, with
its last pages: a record that a delete plus a create shifted onto a page already read would
otherwise be lost unseen (issue 10 item 7). Those checks are counted apart (`checks`), so the
figure shows what exactness costs: made = minimum + checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from common import LATENCY_MS, UNLIMITED_SANDBOX, Figure, connect, pages, run_sql

from sqlprovider.sandbox import Sandbox


@dataclass(frozen=True)
class Case:
    """A query and the function that computes its minimum number of requests."""

    key: str
    label: str
    sql: str
    minimum: int
    checks: int = 0


def cases(sb: Sandbox) -> list[Case]:
    """The typical queries, each with its minimum computed from the account."""
    account = sb.account
    regular, gpus, every = (
        account.droplet_ids(gpu=False),
        account.droplet_ids(gpu=True),
        account.droplet_ids(),
    )
    records = {i: account.droplet(i) for i in every}
    enabled = [i for i, rec in records.items() if rec is not None and rec.policy is not None]
    some = regular[:6]
    in_list = ", ".join(map(str, some))

    def backups_calls(ids: list[int]) -> int:
        return sum(pages(records[i].backup_count if records[i] else 0) for i in set(ids))

    def checks(*counts: int) -> int:
        # One second read of page 1 per list of several pages read in full.
        return sum(1 for count in counts if pages(count) > 1)

    def backups_checks(ids: list[int]) -> int:
        return checks(*(records[i].backup_count if records[i] else 0 for i in set(ids)))

    def policy_lookups(ids: list[int]) -> int:
        # One get per Droplet, or the policies list (sorted by id) read up to the last page
        # holding one of them: whichever is fewer.
        position = {droplet: n for n, droplet in enumerate(sorted(every))}
        last_page = max(position[i] for i in ids) // 200 + 1
        return min(len(set(ids)), last_page)

    kept_clusters = [c for c in account.clusters() if c["engine"] not in ("redis", "valkey")]
    listing = pages(len(regular)) + pages(len(gpus))
    d = "digitalocean.compute"
    return [
        Case(
            "a.droplets",
            "droplets, full scan (regular + GPU lists)",
            f"SELECT * FROM {d}.droplets",
            listing,
            checks(len(regular), len(gpus)),
        ),
        Case(
            "a.policies",
            "droplet_backup_policies, full list",
            f"SELECT * FROM {d}.droplet_backup_policies",
            pages(len(every)),
            checks(len(every)),
        ),
        Case(
            "a.backups_in",
            f"droplet_backups WHERE droplet_id IN ({len(some)} ids)",
            f"SELECT * FROM {d}.droplet_backups WHERE droplet_id IN ({in_list})",
            backups_calls(some),
            backups_checks(some),
        ),
        Case(
            "a.backups_in_dup",
            "droplet_backups WHERE droplet_id IN (x, x, y)",
            f"SELECT * FROM {d}.droplet_backups "
            f"WHERE droplet_id IN ({some[0]}, {some[0]}, {some[1]})",
            backups_calls(some[:2]),
            backups_checks(some[:2]),
        ),
        Case(
            "a.policies_join",
            "policies JOIN backups WHERE p.backup_enabled",
            f"SELECT b.* FROM {d}.droplet_backup_policies p JOIN {d}.droplet_backups b "
            "ON b.droplet_id = p.droplet_id WHERE p.backup_enabled",
            pages(len(every)) + backups_calls(enabled),
            checks(len(every)) + backups_checks(enabled),
        ),
        Case(
            "a.policy_in",
            "droplet_backup_policies WHERE droplet_id IN (a, b)",
            f"SELECT * FROM {d}.droplet_backup_policies WHERE droplet_id IN ({some[0]}, {some[1]})",
            policy_lookups(some[:2]),
        ),
        Case(
            "a.droplets_policies",
            "droplets JOIN droplet_backup_policies (every Droplet)",
            f"SELECT d.name, p.backup_policy_plan FROM {d}.droplets d "
            f"JOIN {d}.droplet_backup_policies p ON p.droplet_id = d.id",
            listing + policy_lookups(every),
            checks(len(regular), len(gpus)),  # the policies list answers gets: no check
        ),
        Case(
            "a.db_join",
            "database backups JOIN clusters, no redis/valkey",
            "SELECT c.name, b.* FROM digitalocean.databases.clusters c "
            "JOIN digitalocean.databases.backups b ON b.database_cluster_uuid = c.id "
            "WHERE c.engine NOT IN ('redis', 'valkey')",
            1 + len(kept_clusters),
        ),
        Case(
            "a.gpus",
            "droplets WHERE type = 'gpus'",
            f"SELECT * FROM {d}.droplets WHERE type = 'gpus'",
            pages(len(gpus)),
            checks(len(gpus)),
        ),
        Case(
            "a.page",
            "droplets WHERE type = 'droplets' AND page = 2 AND per_page = 50",
            f"SELECT * FROM {d}.droplets WHERE type = 'droplets' AND page = 2 AND per_page = 50",
            1,
        ),
        Case(
            "a.page_both",
            "droplets WHERE page = 1 AND per_page = 20 (both types)",
            f"SELECT * FROM {d}.droplets WHERE page = 1 AND per_page = 20",
            2,
        ),
        Case(
            "a.join_droplets",
            "droplets JOIN droplet_backups (every Droplet)",
            f"SELECT d.name, b.* FROM {d}.droplets d JOIN {d}.droplet_backups b "
            "ON b.droplet_id = d.id",
            listing + backups_calls(every),
            checks(len(regular), len(gpus)) + backups_checks(every),
        ),
        *estate_cases(sb, listing, checks(len(regular), len(gpus))),
    ]


def estate_cases(sb: Sandbox, listing: int, listing_checks: int) -> list[Case]:
    """Snapshots, volumes, images and actions, alone and joined with each other and Droplets.

    The minimum comes from the estate the sandbox serves: every list read once (a join that
    rescans an unkeyed inner list reads it once per statement), one call per key of a keyed
    table.
    """
    estate = sb.account.estate
    every = sb.account.droplet_ids()
    snapshots = len(estate.snapshots(None))
    volume_snaps = len(estate.snapshots("volume"))
    volumes = estate.volume_ids()
    private = len(estate.images(True, None, None))
    actions = len(estate.action_ids())
    some = every[:6]
    d = "digitalocean.compute"

    def checks(*counts: int) -> int:
        return sum(1 for count in counts if pages(count) > 1)

    per_volume = sum(pages(len(estate.volume_snapshots(v))) for v in volumes)
    per_droplet_snaps = sum(pages(len(estate.droplet_snapshots(i))) for i in every)
    per_droplet_actions = sum(pages(len(estate.droplet_actions(i))) for i in every)
    first_action = estate.action_ids()[0]
    return [
        Case(
            "a.snapshots",
            "snapshots, full list",
            f"SELECT * FROM {d}.snapshots",
            pages(snapshots),
            checks(snapshots),
        ),
        Case(
            "a.snapshots_volume",
            "snapshots WHERE resource_type = 'volume'",
            f"SELECT * FROM {d}.snapshots WHERE resource_type = 'volume'",
            pages(volume_snaps),
            checks(volume_snaps),
        ),
        Case(
            "a.volumes",
            "volumes, full list",
            f"SELECT * FROM {d}.volumes",
            pages(len(volumes)),
            checks(len(volumes)),
        ),
        Case(
            "a.volume_snapshots",
            "volumes JOIN volume_snapshots (every volume)",
            f"SELECT v.name, s.* FROM {d}.volumes v JOIN {d}.volume_snapshots s "
            "ON s.volume_id = v.id",
            pages(len(volumes)) + per_volume,
            checks(len(volumes)),
        ),
        Case(
            "a.droplet_snapshots",
            "droplets JOIN droplet_snapshots (every Droplet)",
            f"SELECT d.name, s.* FROM {d}.droplets d JOIN {d}.droplet_snapshots s "
            "ON s.droplet_id = d.id",
            listing + per_droplet_snaps,
            listing_checks,
        ),
        Case(
            "a.images_private",
            "images WHERE private = 1",
            f"SELECT * FROM {d}.images WHERE private = 1",
            pages(private),
            checks(private),
        ),
        Case(
            "a.actions",
            "actions, full list",
            f"SELECT * FROM {d}.actions",
            pages(actions),
            checks(actions),
        ),
        Case(
            "a.action_get",
            "actions WHERE id = N (keyed get)",
            f"SELECT * FROM {d}.actions WHERE id = {first_action}",
            1,
        ),
        Case(
            "a.droplet_actions_in",
            f"droplet_actions WHERE droplet_id IN ({len(some)} ids)",
            f"SELECT * FROM {d}.droplet_actions WHERE droplet_id IN ({', '.join(map(str, some))})",
            sum(pages(len(estate.droplet_actions(i))) for i in some),
        ),
        Case(
            "a.x_volumes_snapshots",
            "volumes JOIN snapshots ON resource_id (inner list read once)",
            f"SELECT v.name, s.id FROM {d}.volumes v JOIN {d}.snapshots s ON s.resource_id = v.id",
            pages(len(volumes)) + pages(snapshots),
            checks(len(volumes), snapshots),
        ),
        Case(
            "a.x_droplets_snapshots",
            "droplets JOIN snapshots ON resource_id = id (inner list read once)",
            f"SELECT d.name, s.id FROM {d}.droplets d JOIN {d}.snapshots s "
            "ON s.resource_id = CAST(d.id AS TEXT) AND s.resource_type = 'droplet'",
            # resource_type = 'droplet' is sent as the API's filter: only Droplet snapshots.
            listing + pages(snapshots - volume_snaps),
            listing_checks + checks(snapshots - volume_snaps),
        ),
        Case(
            "a.x_images_snapshots",
            "private images JOIN snapshots ON id (inner list read once)",
            f"SELECT i.name, s.resource_id FROM {d}.images i JOIN {d}.snapshots s "
            "ON s.id = CAST(i.id AS TEXT) WHERE i.private = 1",
            pages(private) + pages(snapshots),
            checks(private, snapshots),
        ),
        Case(
            "a.x_droplets_actions",
            "droplets JOIN droplet_actions WHERE status = 'errored'",
            f"SELECT d.name, a.type FROM {d}.droplets d JOIN {d}.droplet_actions a "
            "ON a.droplet_id = d.id WHERE a.status = 'errored'",
            listing + per_droplet_actions,
            listing_checks,
        ),
    ]


def measure(droplets: int, progress: Callable[[str], None]) -> list[Figure]:
    """Run every case once on a fresh sandbox with 50 ms latency."""
    figures = []
    with Sandbox(
        seed=7, droplets=droplets, clusters=8, latency_ms=LATENCY_MS, **UNLIMITED_SANDBOX
    ) as sb:
        con = connect(sb)
        try:
            for case in cases(sb):
                sb.clear_requests()
                run = run_sql(con, case.sql)
                received = len(sb.requests)
                made = int(run.stats["requests"])
                agree = made == received
                progress(
                    f"{case.key}: made {made}, sandbox saw {received}, min {case.minimum} "
                    f"+ {case.checks} checks"
                )
                figures.append(
                    Figure(
                        case.key,
                        f"requests: {case.label}",
                        f"{made} / {case.minimum}"
                        + (f" + {case.checks} checks" if case.checks else "")
                        + ("" if agree else f" (sandbox saw {received})"),
                        "made = minimum + checks, stats = sandbox log",
                        made == case.minimum + case.checks and agree,
                        {
                            "sql": case.sql,
                            "made": made,
                            "sandbox_received": received,
                            "minimum": case.minimum,
                            "checks": case.checks,
                            "rows": run.rows,
                            "seconds": round(run.seconds, 3),
                        },
                    )
                )
        finally:
            con.close()
    return figures
