"""Against hostile servers, every wait is bounded: headers that ask for forever, clock skew,
a body dripped a byte at a time, an answer that never comes while the user interrupts.

Times are checked with wide margins (the machine is shared); each bound is far below what the
server asks for, so a pass cannot be luck.
"""

from __future__ import annotations

import email.utils
import threading
import time

import pytest

import sqlprovider
from sqlprovider.errors import OperationalError, RateLimitError, ServiceError

from .hostile import Clock, Exchange, RawServer, hostile_connect

pytestmark = pytest.mark.timeout(60)

BACKUPS_7 = "SELECT id FROM digitalocean.compute.droplet_backups WHERE droplet_id = 7"
LIMITS = ((250, 60.0), (5000, 3600.0))


def backups(*ids: int) -> dict[str, object]:
    return {"backups": [{"id": i} for i in ids], "links": {}, "meta": {"total": len(ids)}}


def refuse(ex: Exchange, **headers: str) -> None:
    ex.json({"id": "too_many_requests", "message": "API rate limit exceeded."}, 429, headers)


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "999999"},
        {"ratelimit-remaining": "0", "ratelimit-reset": str(int(time.time()) + 10**9)},
        {"ratelimit-remaining": "0", "ratelimit-reset": "inf", "retry-after": "1e308"},
    ],
    ids=["retry-after-huge", "reset-far-future", "inf"],
)
def test_a_header_asking_for_a_long_pause_fails_at_once_naming_the_time(
    headers: dict[str, str],
) -> None:
    with (
        RawServer(lambda ex: refuse(ex, **headers)) as server,
        hostile_connect(server, retries=3, max_wait=5.0, rate_limits=LIMITS) as con,
    ):
        clock = Clock()
        with pytest.raises(RateLimitError) as caught:
            con.execute(BACKUPS_7).fetchall()
    assert clock.elapsed < 4, f"waited {clock.elapsed:.1f} s"
    message = str(caught.value)
    assert "max_wait" in message, message
    assert "UTC" in message, message


def test_the_empty_budget_server_fails_fast_naming_time_and_remaining_requests() -> None:
    """Every attempt 429, retry-after 1, remaining 0, reset 60 s ahead (the issue's server)."""

    def exhausted(ex: Exchange) -> None:
        reset = str(int(time.time()) + 60)
        refuse(ex, **{"retry-after": "1", "ratelimit-remaining": "0", "ratelimit-reset": reset})

    with (
        RawServer(exhausted) as server,
        hostile_connect(server, retries=5, max_wait=10.0, rate_limits=LIMITS) as con,
    ):
        clock = Clock()
        with pytest.raises(RateLimitError) as caught:
            con.execute(BACKUPS_7).fetchall()
        first = clock.elapsed
        clock = Clock()
        with pytest.raises(RateLimitError):
            con.execute(BACKUPS_7).fetchall()
        second = clock.elapsed
    assert first < 5, f"the first statement took {first:.1f} s"
    assert second < 1, "the next statement learns at once that the budget is still empty"
    message = str(caught.value)
    assert "0 requests remained" in message, message
    assert "UTC" in message, message
    assert len(server.seen) <= 2, "no storm of requests against an empty budget"


def test_a_skewed_server_clock_does_not_stretch_the_reset() -> None:
    """The server's clock runs two hours ahead: its reset is one second away by its own Date."""

    def skewed(ex: Exchange) -> None:
        server_now = time.time() + 7200
        headers = {
            "Date": email.utils.formatdate(server_now, usegmt=True),
            "ratelimit-remaining": "0" if ex.number == 1 else "4000",
            "ratelimit-reset": str(int(server_now) + 1),
        }
        ex.json(backups(ex.number), headers=headers)

    with (
        RawServer(skewed) as server,
        hostile_connect(server, max_wait=30.0, rate_limits=LIMITS) as con,
    ):
        assert con.execute(BACKUPS_7).fetchall() == [(1,)]
        clock = Clock()
        assert con.execute(BACKUPS_7).fetchall() == [(2,)]
    assert clock.elapsed < 4, f"the skewed reset held the next request {clock.elapsed:.1f} s"


def test_a_pause_from_one_server_does_not_hold_another_server_with_the_same_token() -> None:
    with (
        RawServer(lambda ex: refuse(ex, **{"retry-after": "100"})) as sick,
        RawServer(lambda ex: ex.json(backups(1))) as healthy,
        hostile_connect(sick, retries=0, rate_limits=LIMITS) as con_sick,
        hostile_connect(healthy, rate_limits=LIMITS) as con_healthy,
    ):
        with pytest.raises(RateLimitError):
            con_sick.execute(BACKUPS_7).fetchall()
        clock = Clock()
        assert con_healthy.execute(BACKUPS_7).fetchall() == [(1,)]
    assert clock.elapsed < 2, f"the healthy server waited {clock.elapsed:.1f} s"


def test_an_empty_budget_is_waited_for_until_its_reset_then_requests_flow() -> None:
    def recovers(ex: Exchange) -> None:
        remaining = "0" if ex.number == 1 else "4999"
        reset = str(int(time.time()) + 3)
        ex.json(backups(1), headers={"ratelimit-remaining": remaining, "ratelimit-reset": reset})

    with RawServer(recovers) as server, hostile_connect(server, rate_limits=LIMITS) as con:
        con.execute(BACKUPS_7).fetchall()  # says: nothing left until reset
        clock = Clock()
        con.execute(BACKUPS_7).fetchall()  # waits for the reset, then the budget is back
        waited = clock.elapsed
        clock = Clock()
        con.execute(BACKUPS_7).fetchall()
    assert 1.5 < waited < 8, waited
    assert clock.elapsed < 1, "a fresh budget is not held by the old pause"
    assert len(server.seen) == 3


def test_max_wait_is_an_option_with_a_documented_default_and_a_cli_flag() -> None:
    from sqlprovider.cli.main import build_parser
    from sqlprovider.options import ConnectOptions

    assert ConnectOptions().max_wait == 300.0
    assert "max_wait" in (sqlprovider.connect.__doc__ or "")
    args = build_parser().parse_args(["query", "--max-wait", "7", "SELECT 1"])
    assert args.max_wait == 7.0


def test_the_timeout_is_a_deadline_for_the_whole_body() -> None:
    def drip(ex: Exchange) -> None:
        body = b'{"backups": [], "links": {}, "meta": {"total": 0}}' + b" " * 200
        ex.handler.send_response(200)
        ex.handler.send_header("Content-Length", str(len(body)))
        ex.handler.end_headers()
        for byte in body:
            ex.handler.wfile.write(bytes([byte]))
            ex.handler.wfile.flush()
            if not ex.pause(0.1):
                return

    with RawServer(drip) as server, hostile_connect(server, retries=0, timeout=1.0) as con:
        clock = Clock()
        with pytest.raises(ServiceError, match="within the 1 s timeout"):
            con.execute(BACKUPS_7).fetchall()
    assert clock.elapsed < 3, f"a 1 s timeout held the request {clock.elapsed:.1f} s"


def test_interrupt_from_another_thread_ends_the_statement_within_a_second() -> None:
    arrived = threading.Event()

    def never(ex: Exchange) -> None:
        arrived.set()
        if ex.pause(20):
            ex.json(backups(1))  # the late answer, which nobody may see

    with RawServer(never) as server, hostile_connect(server, timeout=25.0) as con:
        outcome: list[object] = []
        ended = threading.Event()

        def run() -> None:
            try:
                outcome.append(con.execute(BACKUPS_7).fetchall())
            except sqlprovider.Error as exc:
                outcome.append(exc)
            ended.set()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        assert arrived.wait(5)
        clock = Clock()
        con.interrupt()
        returned = clock.elapsed
        assert ended.wait(5), "the statement did not end"
        elapsed = clock.elapsed
        worker.join(1)
    assert returned < 1, f"interrupt() itself took {returned:.1f} s"
    assert elapsed < 1.5, f"the statement ended {elapsed:.1f} s after interrupt()"
    assert len(outcome) == 1
    assert isinstance(outcome[0], OperationalError), outcome
    assert "interrupted" in str(outcome[0])
