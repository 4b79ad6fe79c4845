"""The standard-library transport: kept-alive connections, the one retry of a stale GET, bodies
counted to their Content-Length, and no third-party HTTP library loaded at run time."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sqlprovider.http.messages import Outgoing
from sqlprovider.http.transport import HttpTransport

ROOT = Path(__file__).resolve().parents[2]
#: Given the request number on its connection (1, 2, ...), the bytes to answer, or None to
#: close the connection without answering.
Script = Callable[[int], bytes | None]


def answer(body: bytes, length: int | None = None) -> bytes:
    declared = len(body) if length is None else length
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (declared, body)


class ScriptedServer:
    """A loopback server reading requests off each connection and answering by `script`
    (closing each connection after its first answer if `hang_up`)."""

    def __init__(self, script: Script, hang_up: bool = False) -> None:
        self.script = script
        self.hang_up = hang_up
        self.connections = 0
        self.requests: list[tuple[int, str]] = []  # (connection number, request line)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        reader = conn.makefile("rb")
        with conn, reader:
            for nth in range(1, 100):
                line = reader.readline()
                if not line:
                    return
                length = 0
                while (header := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                reader.read(length)
                with self._lock:
                    self.requests.append((number, line.decode("latin-1").strip()))
                reply = self.script(nth)
                if reply is None:
                    return
                conn.sendall(reply)
                if self.hang_up:
                    return

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()


@pytest.fixture
def transport() -> Iterator[HttpTransport]:
    sender = HttpTransport(max_connections=2, timeout=5.0, max_body=1 << 20)
    yield sender
    sender.close()


def get(server: ScriptedServer, path: str = "/v2/x", method: str = "GET") -> Outgoing:
    return Outgoing(method, server.url + path, {"Accept": "application/json"}, None)


def test_sequential_requests_share_one_kept_alive_connection(transport: HttpTransport) -> None:
    with ScriptedServer(lambda nth: answer(b'{"n": %d}' % nth)) as server:
        replies = [transport(get(server, f"/v2/x?page={n}")) for n in (1, 2, 3)]
    assert [r.body for r in replies] == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    assert server.connections == 1
    assert [line for _, line in server.requests] == [
        f"GET /v2/x?page={n} HTTP/1.1" for n in (1, 2, 3)
    ]


def test_a_get_on_a_connection_closed_unanswered_is_sent_once_more_on_a_new_one(
    transport: HttpTransport,
) -> None:
    # Each connection answers its first request and drops the second without a byte.
    with ScriptedServer(lambda nth: answer(b"{}") if nth == 1 else None) as server:
        transport(get(server))
        assert transport(get(server)).body == b"{}"
    assert [n for n, _ in server.requests] == [1, 1, 2], "the second GET went again, once"


def test_a_post_on_a_connection_closed_unanswered_is_not_sent_again(
    transport: HttpTransport,
) -> None:
    with ScriptedServer(lambda nth: answer(b"{}") if nth == 1 else None) as server:
        transport(get(server, method="POST"))
        with pytest.raises(ConnectionResetError):
            transport(get(server, method="POST"))
    assert [n for n, _ in server.requests] == [1, 1], "the write may have been carried out"


def test_a_body_shorter_than_its_content_length_is_broken_off_not_shorter(
    transport: HttpTransport,
) -> None:
    # The server closes after a body of 8 of the 100 bytes it declared: http.client's reads
    # then just end, and only counting tells a broken answer from a whole one.
    with (
        ScriptedServer(lambda nth: answer(b'{"a": 1}', length=100), hang_up=True) as server,
        pytest.raises(http.client.IncompleteRead),
    ):
        transport(get(server))


def test_a_query_runs_without_requests_or_urllib3() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["requests"] = None  # an import of either now fails
        sys.modules["urllib3"] = None
        import sqlprovider
        from sqlprovider.sandbox import Sandbox
        with Sandbox(seed=3, droplets=4) as sb:
            con = sqlprovider.connect(token=sb.token, api_url=sb.url)
            print(con.execute("SELECT count(*) FROM digitalocean.compute.droplets").fetchall())
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[(4,)]"
