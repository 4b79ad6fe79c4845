"""Tiny hostile API servers for the reliability tests: loopback only, bounded, one per behaviour.

A test describes the misbehaviour as a function from the request (path and query) to an
answer (status, JSON body or raw bytes, headers, delay); `HostileServer` serves it on
127.0.0.1 with a fresh port, records every request and stops at the end of the `with` block.
Nothing here knows the provider spec or the sandbox: the servers play the API badly on purpose.

For what an `Answer` cannot say (a body dripped byte by byte, a lying Content-Length, the
server's own `Date`, a gzip bomb, redirects with any Location), `RawServer` hands each request
to a function that writes the answer itself through an `Exchange`, and `hostile_connect` opens
a connection to either kind of server. A `RawServer` also plays an HTTPS proxy: it answers
CONNECT by relaying bytes to `tunnel_to` (or refusing with 407), and with a `tls` context it
serves HTTPS itself (`self_signed` makes a certificate for any host name).
"""

from __future__ import annotations

import datetime
import json
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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


# Raw servers: for behaviours an `Answer` cannot describe (a body dripped byte by byte, a lying
# Content-Length, a `Date` of the server's own, gzip bombs), the behaviour writes the answer
# itself through an `Exchange`.

#: A client-side pacer that never throttles a test (the default mirrors DigitalOcean's limits).
NO_PACING = ((1_000_000, 60.0),)
#: The longest any raw behaviour may stall a request (each stall also ends on stop()).
MAX_STALL = 30.0


@dataclass(frozen=True)
class Seen:
    """One request as the hostile server received it."""

    method: str
    path: str
    headers: Mapping[str, str]


@dataclass
class Exchange:
    """One request being answered: what was asked and the means to answer it (badly)."""

    handler: BaseHTTPRequestHandler
    seen: Seen
    number: int
    server: RawServer

    @property
    def path(self) -> str:
        """The request path with its query, as sent."""
        return self.seen.path

    def reply(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Send a whole answer with a correct Content-Length (unless `headers` sets one)."""
        sent = {k.lower() for k in (headers or {})}
        if "date" in sent:
            self.handler.send_response_only(status)  # no Date of http.server's own
        else:
            self.handler.send_response(status)
        for name, value in (headers or {}).items():
            self.handler.send_header(name, value)
        if "content-length" not in sent:
            self.handler.send_header("Content-Length", str(len(body)))
        if "content-type" not in sent:
            self.handler.send_header("Content-Type", "application/json")
        self.handler.end_headers()
        self.handler.wfile.write(body)
        self.handler.wfile.flush()

    def json(
        self, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer with `payload` as JSON."""
        self.reply(status, json.dumps(payload).encode(), headers)

    def pause(self, seconds: float) -> bool:
        """Sleep up to `seconds` (capped at MAX_STALL); False when the server stopped meanwhile."""
        return not self.server.stopping.wait(min(seconds, MAX_STALL))


RawBehaviour = Callable[[Exchange], None]


class RawServer:
    """A loopback HTTP server answering every request (any method) with a raw `behaviour`;
    `seen` lists what arrived (with headers, so a test can look for the token).

    Args:
        tls: serve HTTPS with this server-side context (see `self_signed`).
        tunnel_to: as a proxy, relay each CONNECT to this address, whatever host it names;
            None answers every CONNECT with 407.
    """

    def __init__(
        self,
        behaviour: RawBehaviour,
        *,
        tls: ssl.SSLContext | None = None,
        tunnel_to: tuple[str, int] | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.tunnel_to = tunnel_to
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                owner._answer(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815

            def do_CONNECT(self) -> None:  # noqa: N802 - http.server naming
                owner._tunnel(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hangs up on a hostile answer is expected

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self.scheme = "http" if tls is None else "https"
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL to pass as api_url."""
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    @property
    def port(self) -> int:
        """The loopback port served."""
        return int(self._httpd.server_address[1])

    def _tunnel(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer a CONNECT as a proxy does: 200, then bytes both ways until one side ends."""
        with self._lock:
            self.seen.append(Seen(handler.command, handler.path, dict(handler.headers.items())))
        if self.tunnel_to is None:
            handler.send_response(407, "Proxy Authentication Required")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        upstream = socket.create_connection(self.tunnel_to, timeout=MAX_STALL)
        handler.send_response(200, "Connection established")
        handler.end_headers()
        handler.wfile.flush()
        client = handler.connection
        try:
            while not self.stopping.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.05)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)
        finally:
            upstream.close()
            handler.close_connection = True

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        seen = Seen(handler.command, handler.path, dict(handler.headers.items()))
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(min(length, 1 << 20))
        with self._lock:
            self.seen.append(seen)
            number = len(self.seen)
        try:
            self.behaviour(Exchange(handler, seen, number, self))
        except OSError:
            handler.close_connection = True  # the client hung up first

    def start(self) -> RawServer:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; stalled behaviours wake up and return."""
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RawServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def self_signed(folder: Path, host: str) -> tuple[Path, ssl.SSLContext]:
    """A certificate for `host` (written to `folder` as the CA bundle a client can trust) and
    a server-side TLS context that presents it."""
    import pytest

    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context


@contextmanager
def hostile_connect(
    server: RawServer | HostileServer | str, **options: Any
) -> Iterator[sqlprovider.Connection]:
    """A connection to a hostile server (or a URL), closed at the end of the block: few, fast
    retries and no client-side pacing."""
    url = server if isinstance(server, str) else server.url
    token = options.pop("token", TOKEN)
    settings = {"retries": 1, "backoff": 0.01, "timeout": 2.0, "rate_limits": NO_PACING, **options}
    con = sqlprovider.connect(token=token, api_url=url, **settings)
    try:
        yield con
    finally:
        con.close()


def droplets_page(ids: list[int], total: int | None = None) -> dict[str, Any]:
    """A plausible `GET /v2/droplets` body holding Droplets with these ids."""
    droplets = [{"id": i, "name": f"d{i}", "status": "active"} for i in ids]
    return {
        "droplets": droplets,
        "links": {},
        "meta": {"total": len(ids) if total is None else total},
    }


@dataclass
class Clock:
    """Measures how long a block took (for bounds checked with generous margins)."""

    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        """Seconds since the clock was made."""
        return time.monotonic() - self.started
