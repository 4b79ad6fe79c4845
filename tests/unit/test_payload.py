"""Large bodies: read into an anonymous mmap whole and exact, parsed as json.loads parses bytes."""

from __future__ import annotations

import gzip
import json
import mmap
import threading

import pytest

from sqlprovider.http.body import BodyTooLargeError, read_body
from sqlprovider.http.payload import LARGE, Unparsed, is_blank, parse


class _Response:
    """A stand-in for `http.client.HTTPResponse`: its status and its body, read in pieces."""

    def __init__(self, data: bytes, piece: int = 7_000) -> None:
        self.status = 200
        self._data = data
        self._piece = piece

    def read(self, amount: int) -> bytes:
        out, self._data = (
            self._data[: min(amount, self._piece)],
            self._data[min(amount, self._piece) :],
        )
        return out


def _document(size: int) -> bytes:
    records = [{"id": i, "name": f"droplet-{i:08d}"} for i in range(size // 36 + 1)]
    return json.dumps({"droplets": records, "meta": {"total": len(records)}}).encode()


def test_a_small_body_stays_bytes() -> None:
    data = b'{"n": 1}'
    body = read_body(_Response(data), {"content-length": str(len(data))}, 1 << 30)
    assert body == data
    assert isinstance(body, bytes)


def test_a_large_body_of_declared_length_is_an_exact_mmap() -> None:
    data = _document(3 * LARGE)
    body = read_body(_Response(data), {"content-length": str(len(data))}, 1 << 30)
    assert isinstance(body, mmap.mmap)
    assert body[:] == data
    assert parse(body) == json.loads(data)


@pytest.mark.parametrize(
    "headers", [{"transfer-encoding": "chunked"}, {"content-encoding": "gzip"}]
)
def test_a_large_body_of_unknown_length_grows_and_is_cut_to_its_length(
    headers: dict[str, str],
) -> None:
    data = _document(5 * LARGE + 123)
    wire = gzip.compress(data) if "content-encoding" in headers else data
    body = read_body(_Response(wire), headers, 1 << 30)
    assert isinstance(body, mmap.mmap)
    assert len(body) == len(data)
    assert body[:] == data


def test_a_large_body_past_the_cap_is_refused() -> None:
    data = _document(3 * LARGE)
    with pytest.raises(BodyTooLargeError):
        read_body(_Response(data), {"transfer-encoding": "chunked"}, 2 * LARGE)


def test_a_large_body_is_decoded_in_the_encoding_json_detects() -> None:
    text = json.dumps({"names": ["é" * 100] * (LARGE // 100)}, ensure_ascii=False)
    data = text.encode("utf-16")
    body = read_body(_Response(data), {"content-length": str(len(data))}, 1 << 30)
    assert isinstance(body, mmap.mmap)
    assert parse(body) == json.loads(data)


def test_blank_large_and_small_bodies() -> None:
    blank = mmap.mmap(-1, LARGE)
    blank[:] = b" " * LARGE
    assert is_blank(blank)
    assert is_blank(b" \n")
    assert not is_blank(b"{}")


def _mapped(data: bytes) -> mmap.mmap:
    body = mmap.mmap(-1, len(data))
    body[:] = data
    return body


def test_unparsed_is_parsed_once_for_every_thread() -> None:
    unparsed = Unparsed(_mapped(_document(LARGE)), lambda: pytest.fail("no reload"))
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(unparsed.value())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(value is seen[0] for value in seen)
    assert seen[0] == json.loads(_document(LARGE))


def test_unparsed_that_is_not_json_is_fetched_again() -> None:
    reloads: list[int] = []

    def reload() -> object:
        reloads.append(1)
        return {"again": True}

    unparsed = Unparsed(_mapped(b"[" * LARGE), reload)
    assert unparsed.value() == {"again": True}
    assert unparsed.value() == {"again": True}
    assert reloads == [1]
