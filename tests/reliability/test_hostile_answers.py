"""Every answer checked: wrong shapes, lying pages and shifting lists fail clearly, never quietly.

Each test plays the API badly with a small server of its own (`hostile.py`) and checks that the
statement raises the right `sqlprovider.Error` (naming the API's answer as the fault) with a
bounded number of requests, or returns exactly the rows that existed throughout.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

import sqlprovider
from sqlprovider.errors import ListChangedError, ResponseError

from .helpers import DROPLETS, POLICIES
from .hostile import Answer, HostileServer, Request, connect, droplet, page_of

pytestmark = pytest.mark.timeout(60)

REGULAR = f"SELECT id FROM {DROPLETS} WHERE type = 'droplets'"


def _policy(number: int) -> dict[str, Any]:
    return {"droplet_id": number, "backup_enabled": False}


# --- item 5: the shape the spec declares --------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"droplets": None}, None], ids=["empty", "null", "json-null"])
def test_a_list_answer_without_its_records_is_an_error_not_zero_rows(body: Any) -> None:
    with (
        HostileServer(lambda request: Answer(body)) as server,
        connect(server) as con,
        pytest.raises(ResponseError, match="the API's answer"),
    ):
        con.execute(REGULAR).fetchall()


def test_a_keyed_get_answering_another_id_is_an_error() -> None:
    def behaviour(request: Request) -> Answer:
        return Answer({"policy": _policy(7)})  # whatever Droplet was asked for

    with (
        HostileServer(behaviour) as server,
        connect(server) as con,
        pytest.raises(ResponseError, match="droplet_id 5.*7"),
    ):
        con.execute(f"SELECT * FROM {POLICIES} WHERE droplet_id = 5").fetchall()


# --- item 6: pagination bounded and checked -----------------------------------------------------


def test_a_next_link_on_every_page_ends_at_the_page_cap() -> None:
    # No meta.total, fresh ids on every page and always a next link: a list that never ends.
    def behaviour(request: Request) -> Answer:
        page = request.int("page", 1)
        return Answer({"droplets": [droplet(page)], "links": {"pages": {"next": "/v2/droplets"}}})

    with HostileServer(behaviour) as server, connect(server) as con:
        con.session.fetcher.max_pages = 6
        with pytest.raises(ResponseError, match="never ends"):
            con.execute(REGULAR).fetchall()
        assert server.count() == 6


def test_a_next_link_back_to_page_one_is_refused_on_the_first_repeat() -> None:
    def behaviour(request: Request) -> Answer:  # every page is page 1, with a next link
        return Answer({"droplets": [droplet(1), droplet(2)], "links": {"pages": {"next": "x"}}})

    with (
        HostileServer(behaviour) as server,
        connect(server) as con,
        pytest.raises(ListChangedError, match="id 1 again"),
    ):
        con.execute(REGULAR).fetchall()
    assert server.count() == 2


def test_a_page_repeating_an_earlier_one_under_a_steady_total_is_refused() -> None:
    items = [droplet(i) for i in range(1, 5)]

    def behaviour(request: Request) -> Answer:
        first = Request(request.path, {**request.query, "page": "1"})
        return page_of(items, first)  # total 4, but page 2 is page 1 again

    with (
        HostileServer(behaviour) as server,
        connect(server) as con,
        pytest.raises(ListChangedError, match="first seen on page 1"),
    ):
        con.execute(f"{REGULAR} AND per_page = 2").fetchall()


@pytest.mark.parametrize("total", ["4", -1, 2.5, True], ids=["string", "negative", "real", "bool"])
def test_a_total_that_is_not_a_count_is_an_error(total: Any) -> None:
    items = [droplet(i) for i in range(1, 5)]

    def behaviour(request: Request) -> Answer:
        return page_of(items, request, meta={"total": total})

    with (
        HostileServer(behaviour) as server,
        connect(server) as con,
        pytest.raises(ResponseError, match="not a count"),
    ):
        con.execute(f"{REGULAR} AND per_page = 2").fetchall()
    assert server.count() == 1


def test_an_absurd_total_fails_before_reading_more_pages() -> None:
    def behaviour(request: Request) -> Answer:
        return page_of([droplet(1), droplet(2)], request, meta={"total": 10**9})

    with (
        HostileServer(behaviour) as server,
        connect(server) as con,
        pytest.raises(ResponseError, match="more than the 5000"),
    ):
        con.execute(f"{REGULAR} AND per_page = 2").fetchall()
    assert server.count() == 1


# --- item 7: a delete plus a create between page reads ----------------------------------------


class Shifting:
    """A list that loses `deleted` and gains `created` right after page 1 is first served."""

    def __init__(self, ids: list[int], deleted: int, created: int, key: str = "droplets") -> None:
        self.ids = list(ids)
        self.deleted, self.created, self.key = deleted, created, key
        self.changed = False
        self.lock = threading.Lock()

    def records(self) -> list[dict[str, Any]]:
        make = droplet if self.key == "droplets" else _policy
        return [make(i) for i in self.ids]

    def __call__(self, request: Request) -> Answer:
        with self.lock:
            if request.path.endswith("/backups/policy"):  # a keyed get
                number = int(request.path.split("/")[3])
                if number in self.ids:
                    return Answer({"policy": _policy(number)})
                return Answer({"id": "not_found", "message": "not found"}, status=404)
            answer = page_of(self.records(), request, key=self.key)
            if self.key == "policies":  # the policies list is a map keyed by Droplet id
                chunk = answer.body["policies"]
                answer.body["policies"] = {str(r["droplet_id"]): r for r in chunk}
            if request.int("page", 1) == 1 and not self.changed:
                self.changed = True
                self.ids.remove(self.deleted)
                self.ids.append(self.created)
            return answer


def test_a_record_shifted_onto_a_page_already_read_fails_the_statement() -> None:
    # Pages of 3: [1 2 3] is read, then 2 goes and 7 comes; page 2 is now [5 6 7]: 4 was there
    # all along and would be missing, under a total that stayed 6.
    shifting = Shifting([1, 2, 3, 4, 5, 6], deleted=2, created=7)
    with (
        HostileServer(shifting) as server,
        connect(server) as con,
        pytest.raises(ListChangedError, match="first page, read again"),
    ):
        con.execute(f"{REGULAR} AND per_page = 3").fetchall()
    assert server.count() == 3  # pages 1 and 2, and page 1 once more


def test_a_steady_multi_page_list_costs_one_extra_request() -> None:
    items = [droplet(i) for i in range(1, 8)]
    with HostileServer(lambda request: page_of(items, request)) as server, connect(server) as con:
        rows = con.execute(f"{REGULAR} AND per_page = 3").fetchall()
        assert [r[0] for r in rows] == list(range(1, 8))
        assert sorted(server.paths()) == [
            "/v2/droplets?page=1&per_page=3&type=droplets",
            "/v2/droplets?page=1&per_page=3&type=droplets",
            "/v2/droplets?page=2&per_page=3&type=droplets",
            "/v2/droplets?page=3&per_page=3&type=droplets",
        ]


def test_a_key_shifted_out_of_the_list_read_is_confirmed_by_its_get() -> None:
    # 250 policies in pages of 200; after page 1, policy 10 goes and 300 comes, so 201 moves
    # onto page 1 (already read). Asked for 201, 202 and 203, the list alone would call 201
    # absent; its own get finds it.
    shifting = Shifting(list(range(1, 251)), deleted=10, created=300, key="policies")
    with HostileServer(shifting) as server, connect(server) as con:
        sql = f"SELECT droplet_id FROM {POLICIES} WHERE droplet_id IN (201, 202, 203)"
        assert sorted(con.execute(sql).fetchall()) == [(201,), (202,), (203,)]
        paths = server.paths()
        assert "/v2/droplets/201/backups/policy" in paths
        assert len(paths) == 3  # two list pages, one get


# --- item 8: several values of page or per_page -----------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("per_page = 2 AND page IN (1, 2)", [(1, 1), (1, 2), (2, 3), (2, 4)]),
        ("per_page = 2 AND (page = 1 OR page = 3)", [(1, 1), (1, 2), (3, 5)]),
        ("page = 1 AND per_page IN (2, 3)", [(1, 1), (1, 1), (1, 2), (1, 2), (1, 3)]),
    ],
)
def test_several_pages_or_page_sizes_read_each_one(
    where: str, expected: list[tuple[int, int]]
) -> None:
    # One call per value (two here), never one value silently.
    items = [droplet(i) for i in range(1, 6)]
    with HostileServer(lambda request: page_of(items, request)) as server, connect(server) as con:
        sql = f"SELECT page, id FROM {DROPLETS} WHERE type = 'droplets' AND {where}"
        assert sorted(con.execute(sql).fetchall()) == expected
        assert server.count() == 2


def test_rows_of_several_pages_are_never_one_page_silently() -> None:
    items = [droplet(i) for i in range(1, 6)]
    with HostileServer(lambda request: page_of(items, request)) as server, connect(server) as con:
        sql = (
            f"SELECT id FROM {DROPLETS} WHERE type = 'droplets' AND per_page = 2 AND page IN (1, 2)"
        )
        rows = con.execute(sql).fetchall()
        assert sorted(rows) == [(1,), (2,), (3,), (4,)]
        assert sorted(server.paths()) == [
            "/v2/droplets?page=1&per_page=2&type=droplets",
            "/v2/droplets?page=2&per_page=2&type=droplets",
        ]


def test_an_error_from_a_hostile_answer_is_a_sqlprovider_error() -> None:
    with (
        HostileServer(lambda request: Answer({"droplets": "nope"})) as server,
        connect(server) as con,
        pytest.raises(sqlprovider.Error),
    ):
        con.execute(REGULAR).fetchall()
