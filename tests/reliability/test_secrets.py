"""The API token never shows: not in logs, errors, tracebacks, reprs, history, exports or tests.

Each scenario runs with DEBUG logging on for sqlprovider and the root logger and then
searches everything a user could paste into a bug report for the token: the captured log, the
exception's str, repr and attributes, and the formatted traceback with its chained causes.
"""

from __future__ import annotations

import http.client
import importlib.util
import io
import logging
import re
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sqlprovider
from sqlprovider.errors import (
    AuthenticationError,
    InterfaceError,
    RateLimitError,
    ResponseError,
    ServiceError,
)
from sqlprovider.http.auth import BearerAuth, Token
from sqlprovider.sandbox import Faults, Sandbox

from .helpers import BACKUPS, DROPLETS, POLICIES, UNLIMITED, connect_to

#: Built at run time so that this file itself never holds a string shaped like a real token.
TOKEN = "dop_v1_" + "5eC4e7" * 10 + "a1b2"
WRONG = "dop_v1_" + "0bad" * 16
REAL_TOKEN_SHAPE = re.compile(r"dop_v1_[0-9a-fA-F]{64}")
TESTS_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every DEBUG record of sqlprovider and the root logger."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlprovider")
    return caplog


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """A sandbox that accepts exactly TOKEN."""
    with Sandbox(seed=2, droplets=5, clusters=2, token=TOKEN, **UNLIMITED) as sandbox:
        yield sandbox


def everything_about(exc: BaseException) -> str:
    """All the text a user could see or paste about an exception."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    parts += [repr(v) for v in vars(exc).values()]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        parts += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


def assert_secret_free(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
        assert secret[-12:] not in text, "a tail of the token leaked"


def _failure(con: sqlprovider.Connection, sql: str) -> BaseException:
    with pytest.raises(sqlprovider.Error) as caught:
        con.execute(sql).fetchall()
    return caught.value


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (Faults(rate=1.0, kinds=("401",)), AuthenticationError),
        (Faults(rate=1.0, kinds=("500",)), ServiceError),
        (Faults(rate=1.0, kinds=("502", "503")), ServiceError),
        (Faults(rate=1.0, kinds=("429-no-retry-after",)), RateLimitError),
        (Faults(rate=1.0, kinds=("reset",)), ServiceError),
        (Faults(rate=1.0, kinds=("truncate",)), ResponseError),
        (Faults(rate=1.0, kinds=("slow",), slow_seconds=0.6), ServiceError),
        (Faults(schedule={2: "401"}), AuthenticationError),  # mid-pagination
    ],
    ids=["401", "500", "5xx", "429", "reset", "truncate", "timeout", "401-page-2"],
)
def test_no_token_in_errors_tracebacks_or_debug_logs(
    sb: Sandbox, debug_logs: pytest.LogCaptureFixture, faults: Faults, error: type[Exception]
) -> None:
    sb.faults = faults
    con = connect_to(sb, retries=1, timeout=0.3)
    try:
        exc = _failure(con, f"SELECT * FROM {POLICIES} WHERE per_page = 2")
        assert isinstance(exc, error), repr(exc)
        assert_secret_free(everything_about(exc), TOKEN)
        assert "GET /v2/droplets/backups/policies" in str(exc), "the message names what failed"
    finally:
        con.close()
    assert debug_logs.records, "DEBUG logging was on, so the requests must have been logged"
    assert_secret_free(debug_logs.text, TOKEN)


def test_a_refused_wrong_token_is_not_echoed(
    sb: Sandbox, debug_logs: pytest.LogCaptureFixture
) -> None:
    with sqlprovider.connect(token=WRONG, api_url=sb.url, backoff=0.01) as con:
        exc = _failure(con, f"SELECT * FROM {DROPLETS}")
        assert isinstance(exc, AuthenticationError)
        assert "DIGITALOCEAN_TOKEN" in str(exc), "the message says where the token comes from"
        assert_secret_free(everything_about(exc) + repr(con), WRONG, TOKEN)
    assert_secret_free(debug_logs.text, WRONG, TOKEN)


def test_no_token_when_the_connection_itself_fails(debug_logs: pytest.LogCaptureFixture) -> None:
    with Sandbox(seed=2, droplets=2, token=TOKEN) as closed:
        url = closed.url  # the port is free again once the sandbox stops
    with sqlprovider.connect(token=TOKEN, api_url=url, retries=1, backoff=0.01, timeout=0.5) as con:
        exc = _failure(con, f"SELECT * FROM {BACKUPS} WHERE droplet_id = 7")
        assert isinstance(exc, ServiceError)
        assert "GET /v2/droplets/7/backups" in str(exc)
        assert_secret_free(everything_about(exc), TOKEN)
    assert_secret_free(debug_logs.text, TOKEN)


def test_no_token_in_any_repr_or_str(sb: Sandbox, debug_logs: pytest.LogCaptureFixture) -> None:
    con = connect_to(sb)
    cursor = con.execute(f"SELECT count(*) FROM {DROPLETS}")
    assert cursor.fetchall() == [(5,)]
    token = Token(TOKEN)
    objects: list[Any] = [
        con,
        cursor,
        con.session,
        con.session.client,
        con.session.statement,
        con.session.fetcher,
        token,
        BearerAuth(token),
        sb,
        cursor.stats,
        con.last_stats,
    ]
    text = "\n".join(f"{obj!r} {obj!s}" for obj in objects)
    assert "fingerprint" in repr(token), "the token shows only as a fingerprint"
    assert_secret_free(text + debug_logs.text, TOKEN)
    with pytest.raises(TypeError):
        __import__("pickle").dumps(token)
    con.close()
    assert_secret_free(repr(con), TOKEN)


def test_shell_history_and_output_keep_no_token(sb: Sandbox, tmp_path: Path) -> None:
    if importlib.util.find_spec("sqlprovider.cli.shell") is None:
        pytest.skip("sqlprovider/cli/shell.py does not exist yet")
    from sqlprovider.cli.shell import ProviderShell, scrub_history_file

    history = tmp_path / "history"
    history.write_text(f"SELECT 1;\nSELECT '{TOKEN}';\nSELECT 2;\n", encoding="utf-8")
    scrub_history_file(history, [TOKEN])
    assert history.read_text(encoding="utf-8") == "SELECT 1;\nSELECT 2;\n"
    assert history.stat().st_mode & 0o077 == 0, "the history file is private"

    sb.faults = Faults(schedule={2: "401"}, path_pattern="policies")
    con = connect_to(sb, retries=0)
    out, err = io.StringIO(), io.StringIO()
    script = f"SELECT count(*) FROM {DROPLETS};\nSELECT * FROM {POLICIES} WHERE per_page = 2;\n"
    shell = ProviderShell(con, stdin=io.StringIO(script), stdout=out, stderr=err, progress=False)
    shell.cmdloop(intro="")
    assert "5" in out.getvalue()
    assert "refused the token" in err.getvalue(), "the shell reports the 401 on page 2"
    assert_secret_free(out.getvalue() + err.getvalue(), TOKEN)
    con.close()


def test_exported_files_keep_no_token(sb: Sandbox, tmp_path: Path) -> None:
    if importlib.util.find_spec("sqlprovider.integrations.export") is None:
        pytest.skip("sqlprovider/export.py does not exist yet, so there are no exported files")
    from sqlprovider.integrations.export import export

    target = tmp_path / "snapshot.db"
    with connect_to(sb) as con:
        written = export(
            con,
            target,
            tables=[DROPLETS, POLICIES],
            queries=[("backups", f"SELECT * FROM {BACKUPS} WHERE droplet_id IN (1, 2)")],
        )
    assert [w.row_count for w in written][:2] == [5, 5]
    data = target.read_bytes()
    assert TOKEN.encode() not in data
    assert TOKEN[-12:].encode() not in data
    assert b"127.0.0.1" in data, "the file records the API URL (and only that) as its source"


def test_no_token_in_any_file_under_tests(sb: Sandbox) -> None:
    """Cassettes and fixtures hold neither the sandbox's tokens nor anything shaped like a token."""
    leaks = []
    for path in TESTS_DIR.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts or ".hypothesis" in path.parts:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        if TOKEN in text or sb.token in text or WRONG in text or REAL_TOKEN_SHAPE.search(text):
            leaks.append(str(path.relative_to(TESTS_DIR)))
        bearer = re.search(r"Bearer\s+(?!REDACTED|<)[A-Za-z0-9_\-]{8,}", text)
        if bearer and "cassettes" in path.parts:
            leaks.append(f"{path.relative_to(TESTS_DIR)} (Authorization header)")
    assert leaks == []


@pytest.mark.parametrize(
    ("url", "allow_http", "refused"),
    [
        ("http://api.example.com", False, True),
        ("http://127.0.0.1.example.com", False, True),
        ("http://localhost.example.com:8080", False, True),
        ("http://10.0.0.1", False, True),
        ("ftp://api.example.com", False, True),
        ("https://user:pass@api.example.com", False, True),
        ("http://api.example.com", True, False),
        ("http://127.0.0.1:9", False, False),
        ("http://localhost:9", False, False),
        ("http://[::1]:9", False, False),
        ("https://api.example.com", False, False),
    ],
)
def test_plain_http_is_refused_off_loopback_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch, url: str, allow_http: bool, refused: bool
) -> None:
    sent: list[str] = []

    def record(connection: Any, *args: Any, **kwargs: Any) -> None:
        sent.append(f"{connection.host}:{connection.port}")
        raise AssertionError("connect() must not connect or send anything")

    # Every connection the transport makes is one of these (the classes vcrpy patches too).
    for kind in (http.client.HTTPConnection, http.client.HTTPSConnection):
        monkeypatch.setattr(kind, "connect", record)
        monkeypatch.setattr(kind, "request", record)
    if refused:
        with pytest.raises(InterfaceError) as caught:
            sqlprovider.connect(token=TOKEN, api_url=url, allow_http=allow_http)
        assert re.search(r"https|allow_http|must", str(caught.value))
        assert_secret_free(everything_about(caught.value), TOKEN)
    else:
        sqlprovider.connect(token=TOKEN, api_url=url, allow_http=allow_http).close()
    assert sent == []
