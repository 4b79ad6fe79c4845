"""No value, however crafted, sends a request to a path the spec does not declare.

Hypothesis binds arbitrary values (integers of any size, floats, text with path tricks and any
Unicode, bytes, uuids in any case) to every parameter column of every table. Each request that
leaves the process is recorded twice, at the transport of the connection's client (the
full URL, so a changed host would show) and by the sandbox (what arrived). Every one must fit a
spec path template whose placeholders decode to a valid id or uuid, and carry only the query
parameters its method declares, with the bound text arriving byte for byte. A value the API
would reject must raise InvalidParameterError (or DataError when SQLite cannot even bind it)
with zero requests.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sqlprovider
from sqlprovider.errors import DataError, InvalidParameterError
from sqlprovider.http.messages import Outgoing, Reply, Transport
from sqlprovider.sandbox import Sandbox

from .helpers import (
    BACKUPS,
    CLUSTERS,
    DB_BACKUPS,
    DROPLETS,
    POLICIES,
    UNLIMITED,
    connect_to,
    is_valid_segment,
    matches_spec,
)

INT64_MAX = 2**63 - 1
TRICKS = [
    "..",
    "../",
    "/",
    "%2F",
    "%2e%2e",
    "1/../../account",
    "1?x=1",
    "1#frag",
    " 1",
    "1 ",
    "1\n",
    "1\r\nHost: evil",
    "١٢",
    "０１",
    "+1",
    "-1",
    "0x10",
    "1e3",
    "1.0",
    "",
    "\x00",
    "ｄroplets",
    "droplets ",
    "gpus\n",
    "a\ud800b",
    "a&type=gpus",
    "a=b&c",
    "%",
    "%00",
    "~",
    "\u2028",
    "é",
    "😀",
    "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30",
    "9CC10173-E9EA-4176-9DBC-A4CEE4C4FF30",
    "{9cc10173-e9ea-4176-9dbc-a4cee4c4ff30}",
    "9cc10173e9ea41769dbca4cee4c4ff30",
    "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30/backups",
    "http://evil.example/",
    "//evil.example",
]
VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=300),
    st.floats(),
    st.text(),
    st.text(alphabet="0123456789+-/.%?# \n", max_size=8),
    st.binary(max_size=8),
    st.sampled_from(TRICKS),
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.none(),
)

#: (table, parameter column, extra WHERE that makes the statement legal, allowed query keys)
TARGETS: list[tuple[str, str, str, set[str]]] = [
    (BACKUPS, "droplet_id", "", {"page", "per_page"}),
    (POLICIES, "droplet_id", "", {"page", "per_page"}),
    (DB_BACKUPS, "database_cluster_uuid", "", set()),
    (DROPLETS, "page", "", {"page", "per_page", "type"}),
    (DROPLETS, "per_page", "", {"page", "per_page", "type"}),
    (POLICIES, "per_page", "", {"page", "per_page"}),
    (BACKUPS, "per_page", " AND droplet_id = 7", {"page", "per_page"}),
    # The tag filter leaves GPU Droplets out: they are listed with type=gpus (never with the tag).
    (DROPLETS, "tag_name", "", {"page", "per_page", "tag_name", "type"}),
    (DROPLETS, "name", "", {"page", "per_page", "name", "type"}),
    (DROPLETS, "type", "", {"page", "per_page", "type"}),
    (CLUSTERS, "tag_name", "", {"tag_name"}),
]


class RecordingAdapter:
    """A transport that records the URL of every request the client sends, then sends it
    through the client's own transport."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.urls: list[str] = []

    def __call__(self, request: Outgoing) -> Reply:
        self.urls.append(request.url)
        return self.inner(request)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A small sandbox of this module's own (its request log is this module's alone)."""
    with Sandbox(seed=21, droplets=6, clusters=3, **UNLIMITED) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def recorded(sb: Sandbox) -> Iterator[tuple[sqlprovider.Connection, RecordingAdapter]]:
    """A connection whose client's HTTP session records every URL it sends."""
    con = connect_to(sb)
    adapter = RecordingAdapter(con.session.client.transport)
    con.session.client.transport = adapter
    yield con, adapter
    con.close()


def expected(column: str, value: Any) -> Any:
    """What the API should receive for `value`, or an exception class if it must be refused.

    Written from the spec's declared types, independently of engine/params.py.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None  # SQL NULL (SQLite binds NaN as NULL): matches nothing, sends nothing
    if isinstance(value, int) and not -(2**63) <= value <= INT64_MAX:
        return DataError  # SQLite cannot bind it
    if isinstance(value, str) and not _is_utf8(value):
        return DataError  # lone surrogates: SQLite cannot store the text
    if column in ("droplet_id", "page", "per_page"):
        number: int | None = None
        if isinstance(value, int):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(r"\+?[0-9]+", value)
        ):
            number = int(value)
        high = 200 if column == "per_page" else INT64_MAX
        return number if number is not None and 1 <= number <= high else InvalidParameterError
    if isinstance(value, int) and column in ("tag_name", "name"):
        value = str(value)  # a tag or name may be all digits: `tag_name = 2024` means '2024'
    if not isinstance(value, str):
        return InvalidParameterError
    if column == "database_cluster_uuid":
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            return InvalidParameterError
        return str(parsed) if str(parsed) == value.lower() else InvalidParameterError
    if column == "type":
        return value if value in ("droplets", "gpus") else InvalidParameterError
    if any(ord(ch) < 32 for ch in value):
        return InvalidParameterError
    return value


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _run(con: sqlprovider.Connection, sql: str, value: Any) -> int | None:
    """Run `sql` with `value`; None on success, else the HTTP status of an API refusal."""
    try:
        con.execute(sql, (value,)).fetchall()
    except sqlprovider.OperationalError as exc:
        return int(getattr(exc, "status", None) or -1)
    return None


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target=st.sampled_from(TARGETS), value=VALUES)
def test_every_request_fits_a_spec_path_and_invalid_values_send_nothing(
    sb: Sandbox,
    recorded: tuple[sqlprovider.Connection, RecordingAdapter],
    target: tuple[str, str, str, set[str]],
    value: Any,
) -> None:
    con, adapter = recorded
    table, column, extra, allowed_keys = target
    sql = f"SELECT * FROM {table} WHERE {column} = ?{extra}"
    want = expected(column, value)
    sb.clear_requests()
    adapter.urls.clear()
    if isinstance(want, type):
        with pytest.raises(want):
            con.execute(sql, (value,)).fetchall()
        assert adapter.urls == [], f"{value!r} reached the client's adapter"
        assert sb.requests == [], f"{value!r} reached the API"
        return
    refused = _run(con, sql, value)
    # The API may refuse a valid-looking value (a page past its limit): fine, if it says so.
    assert refused in (None, 400, 422), refused
    if want is None:
        assert adapter.urls == []
        assert sb.requests == []
        return
    assert adapter.urls, f"{value!r} was valid yet nothing was sent"
    for url in adapter.urls:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == sb.url, url
        assert matches_spec(parts.path), url
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        assert set(query) <= allowed_keys, url
        if column in query:
            assert query[column] == str(want), (url, value)
        if column in ("droplet_id", "database_cluster_uuid"):
            segment = parts.path.split("/")[3]
            assert unquote(segment) == str(want)
            assert is_valid_segment(column, unquote(segment))
    # Every request the API saw was one the client sent. (The client may have sent one more:
    # a reused keep-alive connection the server had closed fails before arriving, and is
    # retried; the same URL then appears twice on the client's side.)
    sent = {urlsplit(url).path for url in adapter.urls}
    assert {record.path for record in sb.requests} == sent
    for record in sb.requests:
        assert matches_spec(record.path), record
        assert set(record.query) <= allowed_keys, record
        if column in record.query:
            assert record.query[column] == str(want), (record, value)
