"""RequestStats: counters of one statement; waiting is wall-clock time, not a sum over threads."""

from __future__ import annotations

import threading

from sqlprovider.http.stats import RequestStats


def test_parallel_waits_count_once() -> None:
    stats = RequestStats()
    # Eight workers that each report having waited the same 60 s (ending about now).
    for _ in range(8):
        stats.add(throttle_seconds=60.0)
    assert 60.0 <= stats.throttle_seconds < 61.0


def test_waits_in_turn_add_up() -> None:
    stats = RequestStats()
    stats.add(throttle_seconds=2.0)
    stats._waits = [(a - 10.0, b - 10.0) for a, b in stats._waits]  # that wait ended 10 s ago
    stats.add(throttle_seconds=3.0)
    assert 4.99 <= stats.throttle_seconds <= 5.01


def test_a_wait_covering_an_earlier_one_adds_only_the_rest() -> None:
    stats = RequestStats()
    stats.add(throttle_seconds=1.0)
    stats.add(throttle_seconds=5.0)  # began before the first and ended with it
    assert 4.99 <= stats.throttle_seconds <= 5.05


def test_no_wait_is_not_counted_and_other_counters_still_sum() -> None:
    stats = RequestStats()
    threads = [
        threading.Thread(target=lambda: stats.add(requests=1, throttle_seconds=0.00001))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.requests == 20
    assert stats.throttle_seconds == 0.0
    assert "_waits" not in stats.as_dict()
