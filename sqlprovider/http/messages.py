"""What the client hands a transport and what it gets back: `Outgoing`, `Reply`, `Transport`.

`ApiClient` sends every try of a request through one `Transport`: a callable from an `Outgoing`
request to the whole `Reply`. The default one (`transport.HttpTransport`) speaks HTTP/1.1 over
keep-alive connections; tests and recorders put their own in its place (`ApiClient.transport`).
A transport raises `OSError` or `http.client.HTTPException` when no complete answer came, and
the client maps those. Imports `http.payload` (the body's type) and nothing that costs time to load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from sqlprovider.http.payload import Body
from sqlprovider.spec.record import Record

__all__ = ["Outgoing", "Reply", "Transport"]


class Outgoing(Record):
    """One request as it goes on the wire.

    Attributes:
        url: the full URL, query included (``https://host/v2/droplets?page=2``).
        headers: every header to send, the bearer token among them (so never logged).
        body: the encoded body, or None.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None

    @property
    def target(self) -> str:
        """The path and query the request line names (``/v2/droplets?page=2``)."""
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def __repr__(self) -> str:
        return f"Outgoing({self.method} {self.target})"


class Reply(Record):
    """A whole answer: status, headers (names in lower case, repeats joined by ``, ``), body.

    The body is already decoded from its content encoding: bytes, or an anonymous mmap when it
    is large (see `payload`).
    """

    status: int
    headers: Mapping[str, str]
    body: Body


class Transport(Protocol):
    """Sends one request and returns its whole answer, or raises why there is none."""

    def __call__(self, request: Outgoing) -> Reply: ...
