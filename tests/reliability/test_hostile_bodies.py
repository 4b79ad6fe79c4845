"""Against hostile servers, every body and header is checked: bad encodings, deep JSON, absurd
headers, huge numbers, gzip bombs, and answers that belong to another server.

Every failure must be a `sqlprovider.Error` whose message says whose fault it is.
"""

from __future__ import annotations

import threading
import tracemalloc
import zlib
from decimal import Decimal

import pytest

import sqlprovider
from sqlprovider.errors import DataError, ResponseError

from .hostile import Clock, Exchange, RawServer, droplets_page, hostile_connect

pytestmark = pytest.mark.timeout(60)

BACKUPS = "digitalocean.compute.droplet_backups"
BACKUPS_7 = f"SELECT id FROM {BACKUPS} WHERE droplet_id = 7"


def backups(*ids: int) -> dict[str, object]:
    return {
        "backups": [{"id": i, "name": f"b{i}"} for i in ids],
        "links": {},
        "meta": {"total": len(ids)},
    }


def test_a_corrupt_gzip_body_is_a_response_error_blaming_the_answer() -> None:
    def bad_gzip(ex: Exchange) -> None:
        ex.reply(200, b"\x1f\x8b\x08\x00not really gzip", {"Content-Encoding": "gzip"})

    with (
        RawServer(bad_gzip) as server,
        hostile_connect(server) as con,
        pytest.raises(ResponseError, match="gzip") as caught,
    ):
        con.execute(BACKUPS_7).fetchall()
    assert "answer" in str(caught.value)


def test_deeply_nested_json_is_a_response_error_not_a_recursion_error() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000

    with (
        RawServer(lambda ex: ex.reply(200, deep)) as server,
        hostile_connect(server) as con,
        pytest.raises(ResponseError, match="not valid JSON") as caught,
    ):
        con.execute(BACKUPS_7).fetchall()
    assert "answer" in str(caught.value)


@pytest.mark.parametrize(
    "headers",
    [
        {"ratelimit-remaining": "nan", "ratelimit-reset": "nan"},
        {"ratelimit-remaining": "inf", "ratelimit-reset": "-inf"},
        {"ratelimit-remaining": "lots", "ratelimit-reset": "1e999", "retry-after": "nan"},
    ],
    ids=["nan", "inf", "text"],
)
def test_absurd_rate_limit_headers_are_ignored(headers: dict[str, str]) -> None:
    def absurd(ex: Exchange) -> None:
        ex.json(backups(1, 2), headers=headers)

    with RawServer(absurd) as server, hostile_connect(server) as con:
        assert con.execute(BACKUPS_7).fetchall() == [(1,), (2,)]
        assert con.execute(BACKUPS_7).fetchall() == [(1,), (2,)]


def test_a_bound_decimal_is_bound_as_the_number_it_is() -> None:
    with RawServer(lambda ex: ex.json(backups(5))) as server, hostile_connect(server) as con:
        assert con.execute(
            f"SELECT id FROM {BACKUPS} WHERE droplet_id = ?", (Decimal("7"),)
        ).fetchall() == [(5,)]
        assert con.execute("SELECT ?, ?", (Decimal("2.5"), Decimal("-12"))).fetchall() == [
            (2.5, -12)
        ]
        with pytest.raises(sqlprovider.ProgrammingError, match="Decimal"):
            con.execute("SELECT ?", (Decimal("0.1000000000000000000001"),))
    assert [seen.path.split("?")[0] for seen in server.seen] == ["/v2/droplets/7/backups"]


def test_a_number_too_large_for_sqlite_blames_the_api_answer() -> None:
    def huge(ex: Exchange) -> None:
        body = {"backups": [{"id": 2**70, "name": "x", "size_gigabytes": 10**30}]}
        ex.json({**body, "links": {}, "meta": {"total": 1}})

    with (
        RawServer(huge) as server,
        hostile_connect(server) as con,
        pytest.raises(DataError) as caught,
    ):
        con.execute(f"SELECT id, size_gigabytes FROM {BACKUPS} WHERE droplet_id = 7").fetchall()
    message = str(caught.value)
    assert "API" in message
    assert "answer" in message
    assert "bound" not in message, "the user's bound value is not at fault"


def _bomb(decoded_mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 20)
    body = b"".join(packer.compress(zeros) for _ in range(decoded_mib)) + packer.flush()
    return body


def test_a_gzip_bomb_is_refused_against_the_cap_without_decoding_it_whole() -> None:
    bomb = _bomb(64)  # about 64 KiB on the wire, 64 MiB decoded

    def explode(ex: Exchange) -> None:
        ex.reply(200, bomb, {"Content-Encoding": "gzip"})

    with (
        RawServer(explode) as server,
        hostile_connect(server, max_response_bytes=4 << 20) as con,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(ResponseError, match="max_response_bytes") as caught:
                con.execute(BACKUPS_7).fetchall()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "4,194,304 bytes" in str(caught.value)
    assert peak < 24 << 20, f"decoding peaked at {peak / 2**20:.0f} MiB"
    assert len(server.seen) == 1, "an oversized answer is not asked for again"


def test_a_declared_length_past_the_cap_is_refused_before_reading() -> None:
    def liar(ex: Exchange) -> None:
        ex.handler.send_response(200)
        ex.handler.send_header("Content-Length", str(10 << 30))
        ex.handler.end_headers()
        ex.handler.wfile.write(b"{")

    with RawServer(liar) as server, hostile_connect(server) as con:
        clock = Clock()
        with pytest.raises(ResponseError, match="declared 10,737,418,240 bytes"):
            con.execute(BACKUPS_7).fetchall()
    assert clock.elapsed < 5


def test_the_default_cap_is_generous_and_documented() -> None:
    from sqlprovider.options import ConnectOptions

    assert ConnectOptions().max_response_bytes >= 32 << 20
    assert "max_response_bytes" in (sqlprovider.connect.__doc__ or "")


def test_the_response_cache_keeps_two_servers_apart() -> None:
    with (
        RawServer(lambda ex: ex.json(backups(1))) as one,
        RawServer(lambda ex: ex.json(backups(2))) as two,
        hostile_connect(one, cache_ttl=60) as con_one,
        hostile_connect(two, cache_ttl=60) as con_two,
    ):
        assert con_one.execute(BACKUPS_7).fetchall() == [(1,)]
        assert con_two.execute(BACKUPS_7).fetchall() == [(2,)]
        assert con_one.execute(BACKUPS_7).fetchall() == [(1,)]
    assert (len(one.seen), len(two.seen)) == (1, 1), "each server answered once, then the cache"


def test_single_flight_never_shares_a_request_between_two_servers() -> None:
    arrived = threading.Event()

    def slow(ex: Exchange) -> None:
        arrived.set()
        ex.pause(0.6)
        ex.json(backups(1))

    with (
        RawServer(slow) as one,
        RawServer(lambda ex: ex.json(backups(2))) as two,
        hostile_connect(one) as con_one,
        hostile_connect(two) as con_two,
    ):
        results: list[object] = []
        worker = threading.Thread(
            target=lambda: results.append(con_one.execute(BACKUPS_7).fetchall())
        )
        worker.start()
        assert arrived.wait(5)
        assert con_two.execute(BACKUPS_7).fetchall() == [(2,)]
        worker.join(10)
    assert results == [[(1,)]]
    assert len(two.seen) == 1


def test_droplets_listing_is_keyed_by_server_too() -> None:
    with (
        RawServer(lambda ex: ex.json(droplets_page([1]))) as one,
        RawServer(lambda ex: ex.json(droplets_page([2]))) as two,
        hostile_connect(one, cache_ttl=60) as con_one,
        hostile_connect(two, cache_ttl=60) as con_two,
    ):
        sql = "SELECT DISTINCT id FROM digitalocean.compute.droplets"
        assert con_one.execute(sql).fetchall() == [(1,)]
        assert con_two.execute(sql).fetchall() == [(2,)]
