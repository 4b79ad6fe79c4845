"""Never a wrong answer quietly (issue 9, items 5, 6, 9, 10 and 11).

Zero rows are a fine SQL answer only when the API really said "nothing here", and then the
statement says so (`cursor.warnings`). Each behaviour is played by a tiny server of the test's
own where the sandbox cannot play it (a 404 from something other than the API, a policy record
without its droplet_id, a meta.total that disagrees with the items).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import sqlprovider
from sqlprovider.sandbox import Sandbox
from tests.conftest import FAST
from tests.reliability.helpers import BACKUPS, CLUSTERS, DB_BACKUPS, DROPLETS, POLICIES, connect_to

#: Answers a server gives: (status, body) for a path and its query parameters.
Route = Callable[[str, dict[str, str]], tuple[int, Any]]


@pytest.fixture
def serve() -> Iterator[Callable[[Route], str]]:
    """Start a loopback server answering every GET with `route(path, query)`; yields its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(route: Route) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, body = route(url.path, query)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def connect(url: str) -> sqlprovider.Connection:
    return sqlprovider.connect(token="t0k", api_url=url, **{**FAST, "retries": 0})


# --- 5. the base URL -----------------------------------------------------------------------------


def test_a_base_url_with_v2_reads_the_same_backups(sandbox: Sandbox) -> None:
    sql = f"SELECT count(*) FROM {DROPLETS} d JOIN {BACKUPS} b ON b.droplet_id = d.id"
    v2_url = sandbox.url + "/v2/"
    with (
        connect_to(sandbox) as plain,
        sqlprovider.connect(token=sandbox.token, api_url=v2_url, **FAST) as v2,
    ):
        expected = plain.execute(sql).fetchall()
        cursor = v2.execute(sql)
        assert cursor.fetchall() == expected
        assert expected[0][0] > 0
        assert cursor.warnings == []


def test_a_404_that_is_not_the_apis_own_answer_is_an_error(
    serve: Callable[[Route], str],
) -> None:
    url = serve(lambda path, query: (404, b"<html>404 Not Found</html>"))
    with connect(url) as con, pytest.raises(sqlprovider.OperationalError) as caught:
        con.execute(f"SELECT * FROM {BACKUPS} WHERE droplet_id = 3164444").fetchall()
    message = str(caught.value)
    assert "not the API's answer for a missing object" in message
    assert url in message


def test_a_404_with_another_error_id_is_an_error(serve: Callable[[Route], str]) -> None:
    url = serve(lambda path, query: (404, {"id": "route_missing", "message": "no route"}))
    with connect(url) as con, pytest.raises(sqlprovider.OperationalError, match="route_missing"):
        con.execute(f"SELECT * FROM {POLICIES} WHERE droplet_id = 3164444").fetchall()


# --- 6. a 404 key is not silence -----------------------------------------------------------------


@pytest.mark.parametrize("table", [BACKUPS, POLICIES])
def test_a_missing_droplet_gives_zero_rows_and_a_notice(
    con: sqlprovider.Connection, table: str
) -> None:
    cursor = con.execute(f"SELECT * FROM {table} WHERE droplet_id = 12345")
    assert cursor.fetchall() == []
    assert cursor.warnings == [f"{table}: droplet_id 12345: not found, 0 rows"]
    assert cursor.stats["warnings"] == 1


def test_notices_belong_to_their_statement(con: sqlprovider.Connection) -> None:
    cursor = con.execute(f"SELECT * FROM {BACKUPS} WHERE droplet_id IN (12345, 12346)")
    assert cursor.fetchall() == []
    assert sorted(cursor.warnings) == [
        f"{BACKUPS}: droplet_id 12345: not found, 0 rows",
        f"{BACKUPS}: droplet_id 12346: not found, 0 rows",
    ]
    cursor = con.execute(f"SELECT count(*) FROM {DROPLETS}")
    assert cursor.fetchall()[0][0] > 0
    assert cursor.warnings == []
    assert cursor.stats["warnings"] == 0


def test_a_key_missing_from_the_batched_list_gets_the_notice_too(
    sandbox: Sandbox, con: sqlprovider.Connection
) -> None:
    known = sandbox.account.droplet_ids()[:3]
    keys = ", ".join(map(str, [*known, 12345]))
    cursor = con.execute(f"SELECT droplet_id FROM {POLICIES} WHERE droplet_id IN ({keys})")
    assert sorted(row[0] for row in cursor.fetchall()) == known
    assert cursor.warnings == [f"{POLICIES}: droplet_id 12345: not found, 0 rows"]


def test_the_cli_prints_the_notice_on_stderr(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlprovider.cli.main import main

    status = main(
        [
            "query",
            "--token",
            sandbox.token,
            "--api-url",
            sandbox.url,
            f"SELECT * FROM {BACKUPS} WHERE droplet_id = 12345",
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0
    assert "(0 rows)" in out
    assert f"warning: {BACKUPS}: droplet_id 12345: not found, 0 rows" in err


def test_the_shell_prints_the_notice_on_stderr(con: sqlprovider.Connection) -> None:
    import io

    from sqlprovider.cli.shell import ProviderShell

    out, err = io.StringIO(), io.StringIO()
    sql = f"SELECT count(*) FROM {BACKUPS} WHERE droplet_id = 12345;\nSELECT 1;\n"
    shell = ProviderShell(con, stdin=io.StringIO(sql), stdout=out, stderr=err, progress=False)
    shell.cmdloop(intro="")
    assert err.getvalue().count(f"warning: {BACKUPS}: droplet_id 12345: not found, 0 rows") == 1


# --- 9. the policies map key is the truth --------------------------------------------------------


def test_a_policy_without_droplet_id_takes_it_from_the_map_key(
    serve: Callable[[Route], str],
) -> None:
    policies = {
        "101": {"droplet_id": 101, "backup_enabled": True, "backup_policy": {"plan": "daily"}},
        "102": {"backup_enabled": False},  # nothing in the API's schema requires droplet_id
    }

    def route(path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/v2/droplets/backups/policies":
            return 200, {"policies": policies, "links": {}, "meta": {"total": 2}}
        return 404, {"id": "not_found", "message": "The resource you requested could not be found."}

    with connect(serve(route)) as con:
        rows = con.execute(
            f"SELECT droplet_id, backup_enabled FROM {POLICIES} ORDER BY droplet_id"
        ).fetchall()
        assert rows == [(101, 1), (102, 0)]
        # Many keys are answered from the list: 102 must be found there, not dropped.
        cursor = con.execute(
            f"SELECT droplet_id FROM {POLICIES} WHERE droplet_id IN (101, 102, 103)"
        )
        assert sorted(cursor.fetchall()) == [(101,), (102,)]
        assert cursor.warnings == [f"{POLICIES}: droplet_id 103: not found, 0 rows"]


def test_a_map_key_that_is_not_an_id_is_a_response_error(serve: Callable[[Route], str]) -> None:
    body = {"policies": {"abc": {"backup_enabled": True}}, "links": {}, "meta": {"total": 1}}
    with (
        connect(serve(lambda path, query: (200, body))) as con,
        pytest.raises(sqlprovider.OperationalError, match="not an integer id"),
    ):
        con.execute(f"SELECT * FROM {POLICIES}").fetchall()


# --- 10. unsupported is not an error for a LEFT JOIN ---------------------------------------------


def test_clusters_left_join_backups_lists_every_cluster(
    sandbox: Sandbox, con: sqlprovider.Connection
) -> None:
    cursor = con.execute(
        f"SELECT c.id, c.engine, count(b.created_at) FROM {CLUSTERS} c "
        f"LEFT JOIN {DB_BACKUPS} b ON b.database_cluster_uuid = c.id GROUP BY c.id"
    )
    rows = cursor.fetchall()
    clusters = sandbox.account.clusters()
    assert len(rows) == len(clusters)
    unsupported = sorted(c["id"] for c in clusters if c["engine"] in ("redis", "valkey"))
    assert unsupported
    assert sorted(r[0] for r in rows if r[1] in ("redis", "valkey")) == unsupported
    assert all(r[2] == 0 for r in rows if r[1] in ("redis", "valkey"))
    assert any(r[2] > 0 for r in rows)
    assert sorted(cursor.warnings) == [
        f"{DB_BACKUPS}: database_cluster_uuid {uuid}: no backups for a Caching/redis or Valkey "
        "cluster, 0 rows"
        for uuid in unsupported
    ]


def test_another_422_is_still_an_error(serve: Callable[[Route], str]) -> None:
    answer = {"id": "unprocessable_entity", "message": "request payload validation failed"}
    with (
        connect(serve(lambda path, query: (422, answer))) as con,
        pytest.raises(sqlprovider.OperationalError, match="validation failed"),
    ):
        con.execute(
            f"SELECT * FROM {DB_BACKUPS} "
            "WHERE database_cluster_uuid = '9cc10173-e9ea-4176-9dbc-a4cee4c4ff30'"
        ).fetchall()


# --- 11. meta.total ------------------------------------------------------------------------------


def _droplets(ids: range) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"d{i}", "tags": []} for i in ids]


def test_a_total_that_changes_between_pages_says_run_it_again(
    serve: Callable[[Route], str],
) -> None:
    def route(path: str, query: dict[str, str]) -> tuple[int, Any]:
        page = int(query.get("page", 1))
        total = 250 if page == 1 else 251
        items = _droplets(range(1, 201)) if page == 1 else _droplets(range(201, 252))
        if query.get("type") == "gpus":
            return 200, {"droplets": [], "links": {}, "meta": {"total": 0}}
        return 200, {"droplets": items, "links": {}, "meta": {"total": total}}

    with connect(serve(route)) as con, pytest.raises(sqlprovider.OperationalError) as caught:
        con.execute(f"SELECT id FROM {DROPLETS}").fetchall()
    assert isinstance(caught.value, sqlprovider.errors.ListChangedError)
    assert "went from 250 to 251" in str(caught.value)
    assert "Run it again" in str(caught.value)


def test_a_stable_total_that_disagrees_with_the_items_does_not_blame_a_change(
    serve: Callable[[Route], str],
) -> None:
    def route(path: str, query: dict[str, str]) -> tuple[int, Any]:
        if query.get("type") == "gpus":
            return 200, {"droplets": [], "links": {}, "meta": {"total": 0}}
        page = int(query.get("page", 1))
        # meta.total says 250 on every page, but the second page holds 30 items, not 50.
        items = _droplets(range(1, 201)) if page == 1 else _droplets(range(201, 231))
        return 200, {"droplets": items, "links": {}, "meta": {"total": 250}}

    with connect(serve(route)) as con, pytest.raises(sqlprovider.OperationalError) as caught:
        con.execute(f"SELECT id FROM {DROPLETS}").fetchall()
    message = str(caught.value)
    assert not isinstance(caught.value, sqlprovider.errors.ListChangedError)
    assert "meta.total said 250 on every page" in message
    assert "page 2 held 30" in message
    assert "again" not in message.lower()
