"""The rows memo: keyed by exactly what makes a page's rows, bounded, never keeping an error."""

from __future__ import annotations

from typing import Any

import pytest

from sqlprovider.engine.rows_memo import RowsMemo
from sqlprovider.errors import DataError

RECORDS = [{"id": 1}, {"id": 2}]


class CountingBuilder:
    """A row builder that counts the rows it builds (and fails on a record marked `bad`)."""

    def __init__(self) -> None:
        self.built = 0

    def __call__(self, record: dict[str, Any], body: Any, echo: dict[str, Any]) -> tuple[Any, ...]:
        if record.get("bad"):
            raise DataError("column id: too large")
        self.built += 1
        return (record["id"], echo.get("droplet_id"))


def test_the_same_bytes_builder_and_echo_build_once() -> None:
    memo, build = RowsMemo(), CountingBuilder()
    first = memo.rows(b'{"page":1}', build, RECORDS, None, {"droplet_id": 7})
    again = memo.rows(b'{"page":1}', build, RECORDS, None, {"droplet_id": 7})
    assert first == again == [(1, 7), (2, 7)]
    assert build.built == 2
    assert len(memo) == 2


def test_equal_bytes_read_again_find_the_rows_they_make() -> None:
    memo, build = RowsMemo(), CountingBuilder()
    memo.rows(b"x" * 100, build, RECORDS, None, {})
    assert memo.rows(bytes(bytearray(b"x" * 100)), build, RECORDS, None, {}) == [
        (1, None),
        (2, None),
    ]
    assert build.built == 2


@pytest.mark.parametrize(
    ("source", "echo", "other_builder"),
    [
        (b"other", {"droplet_id": 7}, False),
        (b"same", {"droplet_id": 8}, False),
        (b"same", {"droplet_id": 7}, True),
    ],
)
def test_other_bytes_echo_or_builder_build_anew(
    source: bytes, echo: dict[str, Any], other_builder: bool
) -> None:
    memo, build = RowsMemo(), CountingBuilder()
    memo.rows(b"same", build, RECORDS, None, {"droplet_id": 7})
    second = CountingBuilder() if other_builder else build
    rows = memo.rows(source, second, RECORDS, None, echo)
    assert rows == [(1, echo["droplet_id"]), (2, echo["droplet_id"])]
    assert build.built + (second.built if other_builder else 0) == 4


def test_the_least_recently_read_page_goes_first_past_the_bound() -> None:
    memo, build = RowsMemo(max_rows=4), CountingBuilder()
    memo.rows(b"a", build, RECORDS, None, {})
    memo.rows(b"b", build, RECORDS, None, {})
    memo.rows(b"a", build, RECORDS, None, {})  # a is now the most recent
    memo.rows(b"c", build, RECORDS, None, {})  # b goes
    assert len(memo) == 4
    built = build.built
    memo.rows(b"a", build, RECORDS, None, {})
    memo.rows(b"c", build, RECORDS, None, {})
    assert build.built == built
    memo.rows(b"b", build, RECORDS, None, {})
    assert build.built == built + 2


def test_a_page_larger_than_the_bound_is_not_kept() -> None:
    memo, build = RowsMemo(max_rows=1), CountingBuilder()
    memo.rows(b"a", build, RECORDS, None, {})
    memo.rows(b"a", build, RECORDS, None, {})
    assert build.built == 4
    assert len(memo) == 0


def test_an_unhashable_echoed_value_builds_every_time() -> None:
    memo, build = RowsMemo(), CountingBuilder()
    for _ in range(2):
        assert memo.rows(b"a", build, RECORDS, None, {"droplet_id": [7]}) == [(1, [7]), (2, [7])]
    assert build.built == 4
    assert len(memo) == 0


def test_a_page_the_builder_refuses_fails_on_every_read() -> None:
    memo, build = RowsMemo(), CountingBuilder()
    for _ in range(2):
        with pytest.raises(DataError):
            memo.rows(b"a", build, [{"id": 1}, {"id": 2, "bad": True}], None, {})
    assert len(memo) == 0
