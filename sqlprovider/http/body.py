"""A response body read whole, raw, and decoded in bounded steps against a cap.

The body is read undecoded from http.client and decoded (gzip, deflate) here, in steps that
never yield more than the cap allows, so a small compressed body cannot grow into gigabytes; a
body longer than the cap is refused, never truncated. The raw bytes are counted too: read in
pieces, http.client ends a body whose connection closed before its Content-Length quietly, and
a short body must fail as broken off (`http.client.IncompleteRead`), not parse as a shorter
answer. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import http.client
import zlib
from collections.abc import Mapping
from typing import Any

__all__ = ["BodyTooLargeError", "BodyUnreadableError", "read_body"]

_CHUNK = 64 * 1024
#: Statuses that carry no body whatever their headers say (RFC 9110).
_BODILESS = frozenset({204, 304})


def read_body(response: Any, headers: Mapping[str, str], cap: int) -> bytes:
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
        decoder = _Decoder(encoding, cap)
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

    def __init__(self, encoding: str, cap: int) -> None:
        if encoding in ("gzip", "x-gzip"):
            self._wbits: int | None = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self._wbits = zlib.MAX_WBITS
        elif encoding == "identity":
            self._wbits = None
        else:
            raise BodyUnreadableError(f"a content encoding it was not asked for ({encoding!r})")
        self._cap = cap
        self._parts: list[bytes] = []
        self._size = 0
        self._zlib = zlib.decompressobj(self._wbits) if self._wbits is not None else None
        self._first = True

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._cap:
            raise BodyTooLargeError(self._cap)
        self._parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._zlib is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._zlib.decompress(data, self._cap - self._size + 1)
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

    def finish(self) -> bytes:
        if self._zlib is not None and not self._first and not self._zlib.eof:
            raise BodyUnreadableError(f"{self._name} data that ends early")
        return b"".join(self._parts)
