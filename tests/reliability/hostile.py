"""Tiny hostile API servers for the reliability tests: loopback only, bounded, one per behaviour.

A test describes the misbehaviour as a function from the request (path and query) to an
answer (status, JSON body or raw bytes, headers, delay); `HostileServer` serves it on
127.0.0.1 with a fresh port, records every request and stops at the end of the `with` block.
Nothing here knows the provider spec or the sandbox: the servers play the API badly on purpose.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import sqlprovider

#: A token that looks like DigitalOcean's format but is only ever sent to these servers.
TOKEN = "dop_v1_" + "0123456789abcdef" * 4


@dataclass(frozen=True)
class Request:
    """One request a hostile server received."""

    path: str
    query: dict[str, str]

    def int(self, name: str, default: int) -> int:
        """A query parameter as an integer (`default` when absent)."""
        return int(self.query.get(name, default))


@dataclass
class Answer:
    """What the server sends back: JSON `body` (or `raw` bytes), after `delay` seconds."""

    body: Any = None
    status: int = 200
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Behaviour = Callable[[Request], Answer]


class HostileServer:
    """Serve `behaviour` on a loopback port; `requests` lists what arrived, in order.

    Args:
        behaviour: the answer to each request.
        max_delay: a ceiling on any answer's delay, so a test can never hang on its own server.
    """

    def __init__(self, behaviour: Behaviour, max_delay: float = 5.0) -> None:
        self.behaviour = behaviour
        self.max_delay = max_delay
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL (http://127.0.0.1:port)."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def paths(self) -> list[str]:
        """The paths requested, with their query in sorted order, as `path?a=1&b=2`."""
        with self._lock:
            return [
                r.path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(r.query.items())))
                if r.query
                else r.path
                for r in self.requests
            ]

    def count(self) -> int:
        """How many requests arrived so far."""
        with self._lock:
            return len(self.requests)

    def __enter__(self) -> HostileServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                request = Request(parts.path, dict(parse_qsl(parts.query)))
                with owner._lock:
                    owner.requests.append(request)
                answer = owner.behaviour(request)
                time.sleep(min(max(answer.delay, 0.0), owner.max_delay))
                data = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    headers = {"content-type": "application/json", **answer.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (an interrupt): nothing to clean up

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet: the tests read `requests` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def connect(server: HostileServer, **kwargs: Any) -> sqlprovider.Connection:
    """A connection to `server` with fast retries, short timeouts and no client-side pacing."""
    options: dict[str, Any] = {
        "backoff": 0.01,
        "retries": 1,
        "timeout": 5.0,
        "rate_limits": ((1_000_000, 60.0),),
        **kwargs,
    }
    return sqlprovider.connect(token=TOKEN, api_url=server.url, **options)


def droplet(number: int) -> dict[str, Any]:
    """A minimal Droplet record with id `number`."""
    return {"id": number, "name": f"d{number}", "status": "active", "region": {"slug": "nyc3"}}


def page_of(
    items: list[dict[str, Any]], request: Request, key: str = "droplets", **overrides: Any
) -> Answer:
    """The page `request` asks for of `items`, shaped as DigitalOcean lists are.

    `overrides` replace top-level keys of the body (`meta={"total": "3"}`, `links={...}`).
    """
    page, per_page = request.int("page", 1), request.int("per_page", 20)
    chunk = items[(page - 1) * per_page : page * per_page]
    links: dict[str, Any] = {}
    if page * per_page < len(items):
        links = {"pages": {"next": f"/v2/x?page={page + 1}"}}
    body: dict[str, Any] = {key: chunk, "links": links, "meta": {"total": len(items)}}
    body.update(overrides)
    return Answer(body)
