"""A response body read whole, raw, and decoded in bounded steps against a cap.

The body is read undecoded from http.client and decoded (gzip, deflate) here, in steps that
never yield more than the cap allows, so a small compressed body cannot grow into gigabytes; a
body longer than the cap is refused, never truncated. The raw bytes are counted too: read in
pieces, http.client ends a body whose connection closed before its Content-Length quietly, and
a short body must fail as broken off (`http.client.IncompleteRead`), not parse as a shorter
answer. A body of `payload.LARGE` bytes or more is gathered in an anonymous mmap, never in one
malloc'd block (`payload` says why). Imports `http.payload`.
"""

from __future__ import annotations

import http.client
import mmap
import zlib
from collections.abc import Mapping
from typing import Any

from sqlprovider.http.payload import LARGE, Body

__all__ = ["BodyTooLargeError", "BodyUnreadableError", "read_body"]

_CHUNK = 64 * 1024
#: Statuses that carry no body whatever their headers say (RFC 9110).
_BODILESS = frozenset({204, 304})


def read_body(response: Any, headers: Mapping[str, str], cap: int) -> Body:
    """The decoded body of `response` (an `http.client.HTTPResponse`, or a recorder's stand-in),
    refusing more than `cap` bytes.

    Args:
        headers: the response's headers, names in lower case.

    Raises:
        BodyTooLargeError: the decoded body (or its declared length) exceeds `cap`.
        BodyUnreadableError: an unknown content encoding, or corrupt compressed data.
        http.client.IncompleteRead: the body ended before its declared length.
        http.client.HTTPException, OSError: the connection failed while reading.
    """
    status = int(response.status)
    encoding = (headers.get("content-encoding") or "identity").strip().lower()
    declared = _declared_length(headers, status)
    if encoding == "identity" and declared is not None and declared > cap:
        raise BodyTooLargeError(cap, declared)
    try:
        decoder = _Decoder(encoding, cap, declared if encoding == "identity" else None)
        received = 0
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            received += len(chunk)
            decoder.feed(chunk)
        if declared is not None and received < declared:
            raise http.client.IncompleteRead(b"", declared - received)
        return decoder.finish()
    except BodyUnreadableError as exc:
        exc.status = status
        raise


def _declared_length(headers: Mapping[str, str], status: int) -> int | None:
    """The Content-Length the body must reach, or None (chunked, absent, or no body at all)."""
    if status in _BODILESS or status < 200 or "chunked" in headers.get("transfer-encoding", ""):
        return None
    try:
        length = int(headers.get("content-length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None


class BodyTooLargeError(Exception):
    """The decoded body passed the size cap (the answer is refused, not truncated)."""

    def __init__(self, cap: int, declared: int | None = None) -> None:
        super().__init__(cap, declared)
        self.cap = cap
        self.declared = declared


class BodyUnreadableError(Exception):
    """The body's content encoding is unknown or its compressed data is corrupt."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status


class _Decoder:
    """Decodes gzip or deflate in bounded steps, so no step yields more than the cap allows."""

    def __init__(self, encoding: str, cap: int, length: int | None) -> None:
        if encoding in ("gzip", "x-gzip"):
            self._wbits: int | None = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self._wbits = zlib.MAX_WBITS
        elif encoding == "identity":
            self._wbits = None
        else:
            raise BodyUnreadableError(f"a content encoding it was not asked for ({encoding!r})")
        self._cap = cap
        self._sink = _Sink(length)
        self._zlib = zlib.decompressobj(self._wbits) if self._wbits is not None else None
        self._first = True

    def _keep(self, data: bytes) -> None:
        if self._sink.size + len(data) > self._cap:
            raise BodyTooLargeError(self._cap)
        self._sink.add(data)

    def feed(self, chunk: bytes) -> None:
        if self._zlib is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._zlib.decompress(data, self._cap - self._sink.size + 1)
            except zlib.error as exc:
                if self._first and self._wbits == zlib.MAX_WBITS:
                    # Some servers send raw deflate without the zlib wrapper.
                    self._wbits = -zlib.MAX_WBITS
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise BodyUnreadableError(f"corrupt {self._name} data ({exc})") from exc
            self._first = False
            self._keep(out)
            if self._zlib.eof:
                # Another gzip member may follow (allowed by RFC 1952).
                data = self._zlib.unused_data
                self._zlib = zlib.decompressobj(self._wbits or zlib.MAX_WBITS)
                self._first = True
            else:
                data = self._zlib.unconsumed_tail

    @property
    def _name(self) -> str:
        return "deflate" if self._wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS) else "gzip"

    def finish(self) -> Body:
        if self._zlib is not None and not self._first and not self._zlib.eof:
            raise BodyUnreadableError(f"{self._name} data that ends early")
        return self._sink.body()


class _Sink:
    """The body's bytes so far: small pieces while it is small, an anonymous mmap once it is
    `LARGE` (sized to the declared length when there is one, else grown by doubling)."""

    def __init__(self, length: int | None) -> None:
        self.size = 0
        self._parts: list[bytes] = []
        self._map = mmap.mmap(-1, length) if length is not None and length >= LARGE else None

    def add(self, data: bytes) -> None:
        end = self.size + len(data)
        if self._map is None and end >= LARGE:
            self._map = _moved(b"".join(self._parts), self.size, 2 * end)
            self._parts = []
        if self._map is None:
            self._parts.append(data)
        else:
            if end > len(self._map):
                self._map = _moved(self._map, self.size, max(end, 2 * len(self._map)))
            self._map[self.size : end] = data
        self.size = end

    def body(self) -> Body:
        if self._map is None:
            return b"".join(self._parts)
        if len(self._map) != self.size:  # grown by doubling: cut to the body's length
            self._map = _moved(self._map, self.size, self.size)
        return self._map


def _moved(data: bytes | mmap.mmap, size: int, capacity: int) -> mmap.mmap:
    """A new anonymous mmap of `capacity` bytes starting with the first `size` of `data`
    (anonymous maps cannot be resized safely in place)."""
    moved = mmap.mmap(-1, capacity)
    with memoryview(data) as view:
        moved[:size] = view[:size]
    return moved
