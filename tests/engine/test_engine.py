"""End to end through DB-API against the sandbox: every table answers the rows the API holds."""

from __future__ import annotations

import json
import subprocess
import sys

import apsw
import pytest

import sqlprovider
from sqlprovider.sandbox import Sandbox
from tests.conftest import connect_to
from tests.crawl import all_droplets, get, get_all

B = "digitalocean.compute.droplet_backups"
P = "digitalocean.compute.droplet_backup_policies"
D = "digitalocean.compute.droplets"


def test_droplets_lists_regular_and_gpu_droplets(
    con: sqlprovider.Connection, sandbox: Sandbox
) -> None:
    expected = sorted((d["id"], d["name"], d["region"]["slug"]) for d in all_droplets(sandbox))
    cur = con.execute(f"SELECT id, name, region FROM {D} ORDER BY id")
    assert cur.fetchall() == expected
    assert cur.stats["requests"] == 2  # one call per droplet type
    gpus = con.execute(f"SELECT count(*) FROM {D} WHERE type = 'gpus'").fetchone()
    assert gpus == (len(get_all(sandbox, "/v2/droplets", "droplets", type="gpus")),)
    assert gpus[0] > 0


def test_policies_map_flattens_to_one_row_per_droplet(
    con: sqlprovider.Connection, sandbox: Sandbox
) -> None:
    truth = {
        p["droplet_id"]: p for p in get_all(sandbox, "/v2/droplets/backups/policies", "policies")
    }
    rows = con.execute(
        f"SELECT droplet_id, backup_enabled, backup_policy_plan, backup_policy_hour FROM {P}"
    ).fetchall()
    assert len(rows) == len(truth)
    for droplet_id, enabled, plan, hour in rows:
        policy = truth[droplet_id].get("backup_policy", {})
        assert (enabled, plan, hour) == (
            int(truth[droplet_id]["backup_enabled"]),
            policy.get("plan"),
            policy.get("hour"),
        )


def test_mission_query_joins_policies_to_backups(
    con: sqlprovider.Connection, sandbox: Sandbox
) -> None:
    sql = f"""SELECT p.droplet_id, count(b.id) AS backups, max(b.created_at) AS newest
        FROM {P} p LEFT JOIN {B} b ON b.droplet_id = p.droplet_id
        WHERE p.backup_enabled GROUP BY p.droplet_id ORDER BY p.droplet_id"""
    cur = con.execute(sql)
    rows = cur.fetchall()
    enabled = sorted(
        p["droplet_id"]
        for p in get_all(sandbox, "/v2/droplets/backups/policies", "policies")
        if p["backup_enabled"]
    )
    expected = []
    for droplet_id in enabled:
        backups = get_all(sandbox, f"/v2/droplets/{droplet_id}/backups", "backups")
        expected.append(
            (droplet_id, len(backups), max((b["created_at"] for b in backups), default=None))
        )
    assert rows == expected
    assert cur.stats["requests"] == 1 + len(enabled)  # the list, then one call per enabled droplet


def test_in_list_subquery_and_or_chain_mean_the_same(
    con: sqlprovider.Connection, sandbox: Sandbox
) -> None:
    ids = sorted(d["id"] for d in all_droplets(sandbox))[:3]
    forms = [
        f"droplet_id IN ({ids[0]}, {ids[1]}, '{ids[2]}')",
        f"droplet_id IN (SELECT id FROM {D} WHERE id <= {ids[2]})",
        f"(droplet_id = {ids[0]} OR droplet_id = {ids[1]} OR droplet_id = {ids[2]})",
    ]
    results = [
        sorted(con.execute(f"SELECT droplet_id, id FROM {B} WHERE {w}").fetchall()) for w in forms
    ]
    expected = sorted(
        (i, b["id"]) for i in ids for b in get_all(sandbox, f"/v2/droplets/{i}/backups", "backups")
    )
    assert results == [expected] * 3


def test_bound_parameters_supply_keys(con: sqlprovider.Connection, sandbox: Sandbox) -> None:
    droplet = all_droplets(sandbox)[0]["id"]
    expected = len(get_all(sandbox, f"/v2/droplets/{droplet}/backups", "backups"))
    assert con.execute(f"SELECT count(*) FROM {B} WHERE droplet_id = ?", (droplet,)).fetchone() == (
        expected,
    )
    assert con.execute(
        f"SELECT count(*) FROM {B} WHERE droplet_id = ?", (str(droplet),)
    ).fetchone() == (expected,)


def test_page_and_per_page_mean_exactly_that_page(
    con: sqlprovider.Connection, sandbox: Sandbox
) -> None:
    truth = [
        d["id"]
        for d in get(sandbox, "/v2/droplets", page=2, per_page=5, type="droplets")["droplets"]
    ]
    cur = con.execute(f"SELECT id FROM {D} WHERE type = 'droplets' AND page = 2 AND per_page = 5")
    assert [r[0] for r in cur.fetchall()] == truth
    assert cur.stats["requests"] == 1
    cur = con.execute(f"SELECT count(*) FROM {D} WHERE type = 'droplets' AND per_page = 7")
    regular = len(get_all(sandbox, "/v2/droplets", "droplets", type="droplets"))
    assert cur.fetchone() == (regular,)
    pages = -(-regular // 7)  # every page of 7 was followed, and the first read once more
    assert cur.stats["pages"] == pages + (pages > 1)


def test_database_backups_with_response_level_fields(
    con: sqlprovider.Connection, sandbox: Sandbox
) -> None:
    clusters = get(sandbox, "/v2/databases")["databases"]
    with_backups = [c for c in clusters if c["engine"] not in ("redis", "valkey")]
    cluster = with_backups[0]
    body = get(sandbox, f"/v2/databases/{cluster['id']}/backups")
    rows = con.execute(
        "SELECT database_cluster_uuid, created_at, size_gigabytes, backup_progress, scheduled_backup_time_backup_hour "
        "FROM digitalocean.databases.backups WHERE database_cluster_uuid = ?",
        (cluster["id"].upper(),),
    ).fetchall()
    assert rows == [
        (
            cluster["id"],
            b["created_at"],
            b["size_gigabytes"],
            body.get("backup_progress"),
            body["scheduled_backup_time"]["backup_hour"],
        )
        for b in body["backups"]
    ]


def test_redis_backups_are_zero_rows_with_a_notice(
    con: sqlprovider.Connection, sandbox: Sandbox
) -> None:
    redis = [
        c for c in get(sandbox, "/v2/databases")["databases"] if c["engine"] in ("redis", "valkey")
    ]
    if not redis:
        pytest.skip("this seed has no caching cluster")
    cursor = con.execute(
        "SELECT * FROM digitalocean.databases.backups WHERE database_cluster_uuid = ?",
        (redis[0]["id"],),
    )
    assert cursor.fetchall() == []
    assert cursor.warnings == [
        f"digitalocean.databases.backups: database_cluster_uuid {redis[0]['id']}: no backups "
        "for a Caching/redis or Valkey cluster, 0 rows"
    ]


def test_unknown_droplet_is_zero_rows(con: sqlprovider.Connection) -> None:
    assert con.execute(f"SELECT * FROM {B} WHERE droplet_id = 1").fetchall() == []
    assert con.execute(f"SELECT * FROM {P} WHERE droplet_id = 1").fetchall() == []


def test_raw_column_reaches_unmodelled_fields(
    con: sqlprovider.Connection, sandbox: Sandbox
) -> None:
    droplet = all_droplets(sandbox)[0]
    row = con.execute(
        f"SELECT raw ->> '$.image.distribution', json_extract(raw, '$.memory') FROM {D} WHERE id = ?",
        (droplet["id"],),
    ).fetchone()
    assert row == (droplet["image"]["distribution"], droplet["memory"])
    assert "raw" not in [d[0] for d in con.execute(f"SELECT * FROM {D} LIMIT 1").description]


def test_plain_sqlite_works_alongside(con: sqlprovider.Connection) -> None:
    con.execute("CREATE TEMP TABLE watch(id INTEGER)")
    con.execute(f"INSERT INTO watch SELECT id FROM {D} ORDER BY id LIMIT 3")
    rows = con.execute(
        f"""WITH ranked AS (SELECT id, name, row_number() OVER (ORDER BY id DESC) AS rn FROM {D})
        SELECT r.rn, json_array(r.name) FROM ranked r JOIN watch w ON w.id = r.id ORDER BY r.rn"""
    ).fetchall()
    assert len(rows) == 3
    assert all(json.loads(j)[0] for _, j in rows)


def test_missing_key_fails_before_any_request(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    sb = make_sandbox()
    with connect_to(sb) as con:
        sb.clear_requests()
        for sql in (
            f"SELECT * FROM {B}",
            f"SELECT * FROM {B} WHERE droplet_id > 5",
            f"SELECT * FROM {B} b LEFT JOIN {D} d ON d.id = b.droplet_id",
        ):
            with pytest.raises(sqlprovider.MissingKeyColumnError, match="needs droplet_id"):
                con.execute(sql)
        with pytest.raises(sqlprovider.ProgrammingError, match="no order in which to read"):
            con.execute(f"SELECT * FROM {B} b1 JOIN {B} b2 ON b1.droplet_id = b2.droplet_id")
        assert sb.requests == []


@pytest.mark.parametrize("value", ["'abc'", "0", "-5", "1.5", "'1/../../account'"])
def test_bad_key_values_send_nothing(make_sandbox, value: str) -> None:  # type: ignore[no-untyped-def]
    sb = make_sandbox()
    with connect_to(sb) as con:
        sb.clear_requests()
        with pytest.raises(
            sqlprovider.InvalidParameterError, match="droplet_id must be a whole number"
        ):
            con.execute(f"SELECT * FROM {B} WHERE droplet_id IN (3164444, {value})").fetchall()
        assert sb.requests == []


def test_quoted_names_work_on_a_raw_apsw_connection(sandbox: Sandbox) -> None:
    db = apsw.Connection(":memory:")
    sqlprovider.attach(db, token=sandbox.token, api_url=sandbox.url)
    count = db.execute(f'SELECT count(*) FROM "{D}"').fetchall()
    assert count == [(len(all_droplets(sandbox)),)]


def test_wrong_token_is_an_authentication_error(sandbox: Sandbox) -> None:
    with sqlprovider.connect(token="wrong", api_url=sandbox.url) as con:
        with pytest.raises(sqlprovider.AuthenticationError, match="refused the token") as caught:
            con.execute(f"SELECT * FROM {D}").fetchall()
        assert caught.value.status == 401
        assert "wrong" not in str(caught.value)


def test_no_request_of_a_failed_statement_arrives_after_its_error(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    from sqlprovider.sandbox import Faults

    sb = make_sandbox(droplets=40, latency_ms=150)
    sb.faults = Faults(schedule={4: "401"}, path_pattern="/backups$")
    with connect_to(sb) as con:
        with pytest.raises(sqlprovider.AuthenticationError):
            con.execute(f"SELECT count(*) FROM {D} d JOIN {B} b ON b.droplet_id = d.id").fetchall()
        seen = len(sb.requests)
        __import__("time").sleep(0.4)  # longer than any request that could still be on the wire
        assert len(sb.requests) == seen


def test_no_query_solution_explains_only_the_failing_statement(con: sqlprovider.Connection) -> None:
    # Planning this join refuses the databases.backups-first order; that must not leak below.
    con.execute(
        "SELECT count(*) FROM digitalocean.databases.clusters c JOIN digitalocean.databases.backups b "
        "ON b.database_cluster_uuid = c.id WHERE c.engine IN ('pg', 'mysql')"
    ).fetchall()
    with pytest.raises(sqlprovider.ProgrammingError) as caught:
        con.execute(f"SELECT * FROM {B} b1 JOIN {B} b2 ON b1.droplet_id = b2.droplet_id")
    message = str(caught.value)
    assert "digitalocean.compute.droplet_backups can only be read once droplet_id" in message
    assert "databases" not in message


def test_statements_without_a_join_do_not_import_a_sql_parser() -> None:
    """sqlglot costs ~0.25 s to import: only a join's key analysis may pay for it."""
    code = """
import sys, sqlprovider
from sqlprovider.sandbox import Sandbox
with Sandbox(seed=1, droplets=5) as sb, sqlprovider.connect(token=sb.token, api_url=sb.url) as con:
    one = con.execute("SELECT count(*) FROM digitalocean.compute.droplet_backup_policies").fetchall()
    subquery = con.execute(
        "SELECT count(*) FROM digitalocean.compute.droplet_backups"
        " WHERE droplet_id IN (SELECT id FROM digitalocean.compute.droplets)"
    ).fetchall()
    before = any(m.startswith("sqlglot") for m in sys.modules)
    con.execute(
        "SELECT count(*) FROM digitalocean.compute.droplets d"
        " JOIN digitalocean.compute.droplet_backups b ON b.droplet_id = d.id"
    ).fetchall()
    print(one[0][0], subquery[0][0], before, any(m.startswith("sqlglot") for m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    policies, backups, before, after = out.stdout.split()
    assert int(policies) == 5
    assert int(backups) > 0
    assert (before, after) == ("False", "True")
