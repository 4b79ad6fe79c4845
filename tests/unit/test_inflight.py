"""The process-wide cap on requests in flight, over every account's pacer."""

from __future__ import annotations

import threading

import pytest

from sqlprovider.http.inflight import MAX_IN_FLIGHT, CappedLimiter
from sqlprovider.http.ratelimit import RateLimiter


def test_requests_past_the_cap_wait_for_a_slot_and_stop_when_cancelled() -> None:
    accounts = [CappedLimiter(RateLimiter(((10**6, 60.0),))) for _ in range(4)]
    held = []
    for i in range(MAX_IN_FLIGHT):
        limiter = accounts[i % len(accounts)]
        limiter.acquire()
        held.append(limiter)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(InterruptedError, match="waiting to send"):
        accounts[0].acquire(cancel)
    done = threading.Event()

    def one_more() -> None:
        accounts[1].acquire()
        done.set()

    waiter = threading.Thread(target=one_more)
    waiter.start()
    assert not done.wait(0.3)  # every slot is taken
    held.pop().release()
    assert done.wait(5)  # a finished request lets the next one go
    waiter.join()
    accounts[1].release()
    for limiter in held:
        limiter.release()
