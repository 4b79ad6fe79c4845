"""The process-wide cap on requests in flight, over every account's pacer."""

from __future__ import annotations

import threading
import time

import pytest

from sqlprovider.http.inflight import MAX_IN_FLIGHT, CappedLimiter, FairSlots
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


def test_a_released_slot_goes_to_the_longest_waiter_not_to_a_newcomer() -> None:
    slots = FairSlots(1)
    slots.acquire()
    order: list[str] = []

    def wait_in_line(name: str) -> threading.Thread:
        def take() -> None:
            slots.acquire()
            order.append(name)

        before = slots.waiting
        thread = threading.Thread(target=take)
        thread.start()
        deadline = time.monotonic() + 5
        while slots.waiting == before and time.monotonic() < deadline:
            time.sleep(0.005)
        return thread

    first = wait_in_line("first")
    second = wait_in_line("second")
    assert slots.waiting == 2
    slots.release()
    # The slot was handed to "first": a newcomer finds none free, even before "first" runs.
    gave_up = threading.Event()
    gave_up.set()
    with pytest.raises(InterruptedError):
        slots.acquire(gave_up)
    first.join(5)
    assert order == ["first"]
    slots.release()
    second.join(5)
    assert order == ["first", "second"]
    slots.release()
    slots.acquire()  # every slot is back: no wait
