"""The HTTP side of the sandbox: a threaded HTTP/1.1 server and its request handler.

The handler reads a request, asks `Service` for the outcome and writes it, carrying out body
faults (`reset`, `truncate`, `slow`) at the socket level. Connections are kept alive, Nagle is
off, nothing is logged per request. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import functools
import gzip
import json
import socket
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .service import Outcome, Service


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threaded server (one daemon thread per connection) bound to one `Service`."""

    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], service: Service) -> None:
        """Bind `address` and serve `service`."""
        self.service = service
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that went away; report anything else."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sqlprovider-sandbox"
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        """Log nothing: a per-request line on stderr would slow the server and flood tests."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def do_HEAD(self) -> None:  # noqa: N802
        # Answered as GET without the body (shillelagh sends HEAD before GET).
        self._serve()

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._serve()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer malformed or unknown-method requests in JSON, as the API does, not HTML."""
        body = json.dumps(
            {"id": "not_implemented" if code == 501 else "bad_request", "message": message or ""}
        ).encode()
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        out = self.server.service.respond(
            self.command, self.path, self.headers.get("Authorization"), body, f"http://{host}"
        )
        try:
            self._write(out)
        except OSError:
            self.close_connection = True

    def _write(self, out: Outcome) -> None:
        body = out.body
        if out.fault == "truncate":
            # A short body whose Content-Length matches what is sent: well-framed, invalid JSON.
            body = body[: max(1, len(body) // 2)]
        if out.fault == "gzip-bomb":
            body = _gzip_bomb()
        self.send_response(out.status)
        for name, value in out.headers.items():
            self.send_header(name, value)
        if out.fault == "gzip-bomb":
            self.send_header("Content-Encoding", "gzip")
        if out.fault == "huge-header":
            self.send_header("X-Padding", "a" * 70_000)  # http.client accepts lines to 64 KiB
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if out.fault == "drip" and self.command != "HEAD":
            # A byte at a time: every read succeeds, the whole body never comes in time.
            self.wfile.flush()
            deadline = time.monotonic() + out.slow_seconds
            sent = 0
            while sent < len(body) - 1 and time.monotonic() < deadline:
                self.wfile.write(body[sent : sent + 1])
                self.wfile.flush()
                sent += 1
                time.sleep(0.02)
            self.wfile.write(body[sent:])
            return
        if self.command == "HEAD":
            return
        if out.fault == "reset":
            # Promise the full length, send half, then drop the connection with a TCP reset.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if out.fault == "slow":
            self.wfile.flush()
            time.sleep(out.slow_seconds)
        self.wfile.write(body)


@functools.cache
def _gzip_bomb() -> bytes:
    """65 MiB of zeros, gzipped to about 64 KiB (just past a client's default 64 MiB cap)."""
    return gzip.compress(bytes(65 * 1024 * 1024), compresslevel=9)
