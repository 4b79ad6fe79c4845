"""Rows of cached pages are kept for the next statement (`engine.rows_memo`), and only ever
reused where the same bytes, the same columns and the same request would build them again."""

from __future__ import annotations

import itertools

import pytest

from sqlprovider.errors import DataError

from .hostile import Exchange, RawServer, hostile_connect

pytestmark = pytest.mark.timeout(60)

BACKUPS = "digitalocean.compute.droplet_backups"
BACKUPS_7 = f"SELECT id FROM {BACKUPS} WHERE droplet_id = 7 ORDER BY id"


def test_cached_rows_follow_the_bytes_the_cache_holds() -> None:
    batches = itertools.count()

    def listing(ex: Exchange) -> None:
        first = 1 + 10 * next(batches)  # every request answers other backups
        ids = [first, first + 1, first + 2]
        ex.json({"backups": [{"id": i} for i in ids], "links": {}, "meta": {"total": 3}})

    with RawServer(listing) as server, hostile_connect(server, cache_ttl=600) as con:
        first = con.execute(BACKUPS_7).fetchall()
        assert len(con.session.rows_memo) == 3, "the cache keeps the page: its rows are kept"
        again = con.execute(BACKUPS_7).fetchall()
        assert first == again == [(1,), (2,), (3,)]
        assert len(server.seen) == 1
        con.clear_cache()
        assert len(con.session.rows_memo) == 0, "clearing the cache lets its rows go too"
        fresh = con.execute(BACKUPS_7).fetchall()
        assert fresh == [(11,), (12,), (13,)]
        assert con.execute(BACKUPS_7).fetchall() == fresh
        assert len(con.session.rows_memo) == 3
        assert con.execute("SELECT sqlprovider_cache_clear()").fetchone()[0] >= 1
        assert len(con.session.rows_memo) == 0
        assert con.execute(BACKUPS_7).fetchall() == [(21,), (22,), (23,)]
        assert len(server.seen) == 3


def test_without_a_cache_no_row_is_kept() -> None:
    def listing(ex: Exchange) -> None:
        ex.json({"backups": [{"id": 1}], "links": {}, "meta": {"total": 1}})

    with RawServer(listing) as server, hostile_connect(server, cache_ttl=0) as con:
        for _ in range(2):
            assert con.execute(BACKUPS_7).fetchall() == [(1,)]
        assert len(server.seen) == 2
        assert len(con.session.rows_memo) == 0


def test_the_same_bytes_for_two_keys_keep_each_key() -> None:
    def same_backup(ex: Exchange) -> None:
        # The record does not name its Droplet: the row takes it from the request.
        ex.json({"backups": [{"id": 5, "name": "b5"}], "links": {}, "meta": {"total": 1}})

    sql = f"SELECT droplet_id, id FROM {BACKUPS} WHERE droplet_id IN (7, 8) ORDER BY droplet_id"
    with RawServer(same_backup) as server, hostile_connect(server, cache_ttl=600) as con:
        for _ in range(3):
            assert con.execute(sql).fetchall() == [(7, 5), (8, 5)]
        assert len(server.seen) == 2


def test_a_cached_answer_sqlite_cannot_hold_fails_on_every_read() -> None:
    def huge(ex: Exchange) -> None:
        ex.json({"backups": [{"id": 2**70, "name": "x"}], "links": {}, "meta": {"total": 1}})

    with RawServer(huge) as server, hostile_connect(server, cache_ttl=600) as con:
        for _ in range(3):
            with pytest.raises(DataError, match="64-bit"):
                con.execute(f"SELECT id FROM {BACKUPS} WHERE droplet_id = 7").fetchall()
        assert len(server.seen) == 1, "the later reads came from the response cache"
        assert len(con.session.rows_memo) == 0


def test_a_large_answer_that_is_not_json_is_sent_again_and_its_retry_read_as_usual() -> None:
    # The first answer is large enough to be parsed on the cursor's thread (and stored first);
    # found broken there, it is asked for again, and the small answer that comes back is the page.
    answers = itertools.count()

    def broken_then_small(ex: Exchange) -> None:
        if next(answers) == 0:
            ex.reply(200, b'{"backups": [' + b" " * (256 * 1024))
        else:
            ex.json({"backups": [{"id": 4}], "links": {}, "meta": {"total": 1}})

    with RawServer(broken_then_small) as server, hostile_connect(server, cache_ttl=600) as con:
        assert con.execute(BACKUPS_7).fetchall() == [(4,)]
        assert con.execute(BACKUPS_7).fetchall() == [(4,)]
        assert len(server.seen) == 2
