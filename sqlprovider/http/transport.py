"""One HTTP exchange that can be ended from outside: a deadline per request and interrupts.

`requests` applies its timeout to each socket read, so a server dripping one byte a second holds
a request for as long as it likes, and a thread blocked in a read cannot be told to stop. Here
each request runs under an `InFlight` handle: the connection it uses is registered as the pool
hands it out (the pool classes of `AbortableAdapter`), and a single watchdog thread shuts that
socket down when the request's deadline passes or its statement's abort switch is set. The
blocked read then returns at once and the request fails with the reason recorded on the handle.

The body is read here too, raw, and decoded (gzip, deflate) in bounded steps against a cap on
the decoded size, so a small compressed body cannot grow into gigabytes. Imports only `errors`
and third-party HTTP libraries (loaded when the first request is made).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib
from typing import TYPE_CHECKING, Any, Literal

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

if TYPE_CHECKING:
    import requests

__all__ = [
    "AbortableAdapter",
    "BodyTooLargeError",
    "BodyUnreadableError",
    "InFlight",
    "read_body",
]

#: How often the watchdog looks at cancel switches (an interrupt ends a request within this).
_POLL_SECONDS = 0.05
_CHUNK = 64 * 1024
_current = threading.local()

Reason = Literal["deadline", "cancel"]


class InFlight:
    """The handle of one request: its deadline, its cancel switch and the socket it uses.

    Use as a context manager around the request and the reading of its body.
    """

    def __init__(self, deadline: float, cancel: threading.Event | None) -> None:
        self.deadline = deadline
        self.cancel = cancel
        self.reason: Reason | None = None
        self._connection: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> InFlight:
        _current.handle = self
        _watchdog.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.handle = None
        _watchdog.discard(self)

    def attach(self, connection: Any) -> None:
        """The connection this request goes through (called as the pool hands it out)."""
        with self._lock:
            self._connection = connection
        self.enforce()

    def abort(self, reason: Reason) -> None:
        """End the request now: its blocked read or connect returns with an error."""
        with self._lock:
            if self.reason is None:
                self.reason = reason
        self.enforce()

    def enforce(self) -> None:
        """Shut the socket of an aborted request (again each poll: it may still be connecting,
        and a socket that did not exist at the abort exists now)."""
        with self._lock:
            connection = self._connection if self.reason is not None else None
        if connection is not None:
            _shut(connection)


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing left to wake up
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that aborts requests past their deadline or cancelled."""

    def __init__(self) -> None:
        self._active: set[InFlight] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, handle: InFlight) -> None:
        with self._wake:
            self._active.add(handle)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sqlprovider-watchdog", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def discard(self, handle: InFlight) -> None:
        with self._wake:
            self._active.discard(handle)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._active:
                    self._wake.wait()
                handles = list(self._active)
            now = time.monotonic()
            for handle in handles:
                if handle.reason is not None:
                    handle.enforce()
                elif handle.cancel is not None and handle.cancel.is_set():
                    handle.abort("cancel")
                elif now >= handle.deadline:
                    handle.abort("deadline")
            soonest = min(h.deadline for h in handles) - now
            time.sleep(min(_POLL_SECONDS, max(soonest, 0.005)))


_watchdog = _Watchdog()


def _register(connection: Any) -> None:
    handle: InFlight | None = getattr(_current, "handle", None)
    if handle is not None:
        handle.attach(connection)


class ConnectionPool(HTTPConnectionPool):
    """Hands each connection to the request's `InFlight` handle (whatever connection class is
    in use: a recorder such as vcrpy swaps it)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        _register(connection)
        return connection


class TlsConnectionPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        _register(connection)
        return connection


_POOLS = {"http": ConnectionPool, "https": TlsConnectionPool}


class AbortableAdapter(HTTPAdapter):
    """An `HTTPAdapter` whose connections register with the request's `InFlight` handle."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


class BodyTooLargeError(Exception):
    """The decoded body passed the size cap (the answer is refused, not truncated)."""

    def __init__(self, cap: int, declared: int | None = None) -> None:
        super().__init__(cap, declared)
        self.cap = cap
        self.declared = declared


class BodyUnreadableError(Exception):
    """The body's content encoding is unknown or its compressed data is corrupt."""


def read_body(response: requests.Response, cap: int) -> bytes:
    """The decoded body of a response sent with ``stream=True``, refusing more than `cap` bytes.

    Raises:
        BodyTooLargeError: the decoded body (or its declared length) exceeds `cap`.
        BodyUnreadableError: an unknown content encoding, or corrupt compressed data.
        urllib3.exceptions.HTTPError, OSError: the connection failed while reading.
    """
    raw = response.raw
    if raw is None or not hasattr(raw, "read"):
        # A custom adapter (tests, recordings) that filled the body itself.
        body = response.content or b""
        if len(body) > cap:
            raise BodyTooLargeError(cap)
        return body
    encoding = (response.headers.get("content-encoding") or "identity").strip().lower()
    declared = _declared_length(response)
    if encoding == "identity" and declared is not None and declared > cap:
        raise BodyTooLargeError(cap, declared)
    decoder = _Decoder(encoding, cap)
    while True:
        chunk = raw.read(_CHUNK, decode_content=False)
        if not chunk:
            break
        decoder.feed(chunk)
    return decoder.finish()


def _declared_length(response: requests.Response) -> int | None:
    try:
        return int(response.headers.get("content-length", ""))
    except ValueError:
        return None


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
