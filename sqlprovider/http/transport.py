"""The default transport: HTTP/1.1 on http.client over kept-alive connections.

One pool per origin (scheme, host, port) keeps at most `max_connections` idle connections; a
request takes an idle one or opens a new one (`connect.open_connection`), and gives it back
once its whole body is read, unless either side said the connection ends there. An idle
connection the server has closed meanwhile is dropped before use (its socket reads as ready).
When a reused connection still turns out dead before any byte of the answer arrived, a GET is
sent once more on a fresh connection; any other method is not, since its request may have
been carried out. Redirects are never followed: a 3xx is an answer like any other (the client
refuses it, the token must not go along). The body is read with the caps of `body.read_body`.
Deadlines and interrupts reach the socket through `abort`. Imports `http.abort`, `http.body`,
`http.connect` and `http.messages`.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import threading
from typing import Any
from urllib.parse import urlsplit

from sqlprovider.http.abort import aborted, attach
from sqlprovider.http.body import read_body
from sqlprovider.http.connect import Proxy, open_connection
from sqlprovider.http.messages import Outgoing, Reply

__all__ = ["TRANSIENT", "HttpTransport"]

#: What a transport raises when no complete answer came (the client retries or reports these).
TRANSIENT: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException)
#: A kept-alive connection the server closed: found only as the request is written or answered.
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

Origin = tuple[str, str, int]


class _Pool:
    """Idle connections of one origin, at most `keep` of them."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def take(self) -> Any:
        """An idle connection that still looks alive, or None."""
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection = self._idle.pop()
            if _is_alive(connection):
                return connection
            connection.close()

    def give(self, connection: Any) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _is_alive(connection: Any) -> bool:
    """Whether an idle connection can carry a request: connected, and nothing to read (an idle
    socket that reads as ready was closed by the server, or holds bytes nobody asked for)."""
    sock = getattr(connection, "sock", None)
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):  # no limit on descriptor numbers, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return not poller.poll(0)
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError, TypeError):
        return False
    return not readable


class HttpTransport:
    """Sends `Outgoing` requests over pooled connections (see the module docstring).

    Args:
        max_connections: idle connections kept per origin (match the fan-out concurrency).
        timeout: seconds a connect or a single read may take (the client bounds the whole
            request separately, through `abort`).
        max_body: the largest decoded body accepted (`body.BodyTooLargeError` past it).
        proxy: the proxy to tunnel HTTPS through, or None.
    """

    def __init__(
        self, *, max_connections: int, timeout: float, max_body: int, proxy: Proxy | None = None
    ) -> None:
        self._keep = max(1, max_connections)
        self._timeout = timeout
        self._max_body = max_body
        self._proxy = proxy
        self._pools: dict[Origin, _Pool] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HttpTransport(proxy={self._proxy!r})"

    def _pool(self, origin: Origin) -> _Pool:
        with self._lock:
            pool = self._pools.get(origin)
            if pool is None:
                pool = self._pools[origin] = _Pool(self._keep)
            return pool

    def __call__(self, request: Outgoing) -> Reply:
        """Send `request` and read its whole answer.

        Raises:
            OSError, http.client.HTTPException: no complete answer (see `TRANSIENT`).
            body.BodyTooLargeError, body.BodyUnreadableError: as `body.read_body`.
        """
        parts = urlsplit(request.url)
        scheme = parts.scheme
        port = parts.port or (443 if scheme == "https" else 80)
        origin = (scheme, parts.hostname or "", port)
        pool = self._pool(origin)
        target = request.target
        stale_seen = False
        while True:
            connection = None if stale_seen else pool.take()
            reused = connection is not None
            if connection is None:
                connection = open_connection(*origin, self._timeout, self._proxy)
            else:
                attach(connection)
            try:
                connection.request(request.method, target, request.body, dict(request.headers))
                response = connection.getresponse()
            except _STALE:
                connection.close()
                if reused and request.method == "GET" and not aborted():
                    stale_seen = True  # the server had closed it; once more, on a new one
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            break
        try:
            headers = _headers(response)
            body = read_body(response, headers, self._max_body)
        except BaseException:
            connection.close()
            raise
        if getattr(response, "will_close", True) or aborted():
            connection.close()
        else:
            pool.give(connection)
        return Reply(int(response.status), headers, body)

    def close(self) -> None:
        """Close every idle connection (one in use closes when its request ends)."""
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            with contextlib.suppress(OSError):
                pool.close()


def _headers(response: Any) -> dict[str, str]:
    """The response's headers, names in lower case, repeated ones joined by ``, ``."""
    headers: dict[str, str] = {}
    for name, value in response.getheaders():
        key = str(name).lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else str(value)
    return headers
