"""Say in full why a request got no answer: "connection refused by 127.0.0.1:9", not half a repr.

The exception a failed request raises (from the socket, ssl or http.client) may wrap the one
that says what happened, and its own text ("[Errno 111]", an object address) hides that fact.
`describe_transport_error` walks the chain down to the operating system's error and words
that; `is_refused` says whether nothing listens at the address, which the client retries only
briefly (`REFUSED_ATTEMPTS`, `REFUSED_MAX_WAIT`): a closed port rarely opens within seconds,
and a mistyped --api-url should fail fast. Imports nothing from sqlprovider.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

#: Tries of a request whose connection is refused (then it fails), and the longest wait between.
REFUSED_ATTEMPTS = 3
REFUSED_MAX_WAIT = 0.5


class ProxyRefusedError(OSError):
    """The proxy answered the CONNECT for the API with an error status (it said `answer`)."""

    def __init__(self, host: str, port: int, answer: str) -> None:
        super().__init__(f"the proxy at {host}:{port} refused the tunnel ({answer or 'no reason'})")
        self.host = host
        self.port = port
        self.answer = answer


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, its causes and contexts, and exceptions held in args or `reason`."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(linked, BaseException):
                pending.append(linked)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))


def is_refused(exc: BaseException) -> bool:
    """Whether the request failed because nothing accepted the connection."""
    return any(isinstance(e, ConnectionRefusedError) for e in _chain(exc))


def describe_transport_error(exc: BaseException, url: str = "", timeout: float = 0.0) -> str:
    """A short, complete sentence for a request that got no answer.

    Example: ``connection refused by 127.0.0.1:9 (nothing is listening there)``.
    """
    parts = urlsplit(url) if url else None
    where = ""
    if parts is not None and parts.hostname:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        where = f"{parts.hostname}:{port}"
    # Here, not at the top: only a failed request needs them, and `ssl` costs every start a
    # few ms (a request that failed in TLS has imported it already).
    import socket
    import ssl

    chain = list(_chain(exc))
    for item in chain:
        if isinstance(item, ProxyRefusedError):
            return (
                f"{item.args[0]} to {where or 'the server'}; check HTTPS_PROXY, or add the API "
                "host to NO_PROXY"
            )
        if isinstance(item, ConnectionRefusedError):
            return f"connection refused by {where or 'the server'} (nothing is listening there)"
        if isinstance(item, socket.gaierror):
            host = parts.hostname if parts is not None and parts.hostname else "the host"
            return f"the host name {host} could not be resolved ({item.strerror or item})"
        if isinstance(item, ssl.SSLError):
            return f"the TLS handshake with {where or 'the server'} failed ({item.reason or item})"
        if isinstance(item, ConnectionResetError):
            return f"the connection to {where or 'the server'} was reset"
    names = {type(item).__name__ for item in chain}
    if names & {"ReadTimeout", "ConnectTimeout", "Timeout", "TimeoutError", "socket.timeout"}:
        limit = f" within {timeout:g} s" if timeout else ""
        return f"no answer from {where or 'the server'}{limit} (timeout)"
    if names & {"ChunkedEncodingError", "ProtocolError", "IncompleteRead"}:
        return f"the answer from {where or 'the server'} broke off before its end"
    for item in chain:
        if isinstance(item, OSError) and item.strerror:
            return f"{item.strerror.lower()} ({where or 'the server'})"
    text = str(exc)
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}"
