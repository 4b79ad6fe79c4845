"""A statement lets go of a prefetched answer after its last expected read (engine.statement)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from sqlprovider.engine.statement import Statement


def _answered(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return future


def test_answer_is_let_go_after_its_expected_reads() -> None:
    statement = Statement("SELECT 1")
    submitted: list[str] = []

    def submit() -> Future[Any]:
        submitted.append("sent")
        return _answered({"backups": []})

    first = statement.shared("k", submit, retain=True)  # the prefetch starts it
    statement.expect_reads("k", 2)
    assert statement.shared("k", submit, retain=True) is first  # read 1
    assert statement.shared("k", submit, retain=True) is first  # read 2: let go
    assert submitted == ["sent"]
    again = statement.shared("k", submit, retain=True)  # an unexpected third read is sent
    assert again is not first
    assert submitted == ["sent", "sent"]


def test_answer_without_expected_reads_stays_for_the_statement() -> None:
    statement = Statement("SELECT 1")
    submitted: list[str] = []

    def submit() -> Future[Any]:
        submitted.append("sent")
        return _answered({"backups": []})

    first = statement.shared("k", submit, retain=True)
    for _ in range(3):
        assert statement.shared("k", submit, retain=True) is first
    assert submitted == ["sent"]


def test_let_go_answer_gives_its_bytes_back_to_the_bound() -> None:
    statement = Statement("SELECT 1")
    statement.reuse_bytes = 100
    statement.shared("a", lambda: _answered(1), retain="bounded")
    assert statement.admit("a", 80)
    statement.expect_reads("a", 1)
    statement.shared("a", lambda: _answered(1), retain="bounded")  # its last read
    statement.shared("b", lambda: _answered(2), retain="bounded")
    assert statement.admit("b", 80)  # fits again: a's 80 bytes were given back
