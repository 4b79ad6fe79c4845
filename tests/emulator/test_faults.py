"""Fault injection as a plain HTTP client sees it: each kind, schedules, rates, path filters."""

from __future__ import annotations

import http.client
import json
import time
from itertools import pairwise
from urllib.parse import urlsplit

import pytest
import requests

from sqlprovider.sandbox import Faults, Sandbox

from .conftest import make_session


def _get(sb: Sandbox, path: str = "/v2/droplets", **kwargs: float) -> requests.Response:
    return make_session(sb).get(sb.url + path, timeout=kwargs.get("timeout", 10))


@pytest.mark.parametrize(
    ("kind", "status", "error_id"),
    [
        ("500", 500, "server_error"),
        ("502", 502, "bad_gateway"),
        ("503", 503, "service_unavailable"),
        ("504", 504, "gateway_timeout"),
        ("401", 401, "unauthorized"),
    ],
)
def test_status_faults(fresh: Sandbox, kind: str, status: int, error_id: str) -> None:
    fresh.faults = Faults(schedule={1: kind})
    resp = _get(fresh)
    assert resp.status_code == status
    assert resp.json()["id"] == error_id
    assert "ratelimit-remaining" in resp.headers
    assert _get(fresh).status_code == 200


def test_429_with_and_without_retry_after(fresh: Sandbox) -> None:
    fresh.faults = Faults(schedule={1: "429", 2: "429-no-retry-after"}, retry_after=3)
    first, second = _get(fresh), _get(fresh)
    assert (first.status_code, second.status_code) == (429, 429)
    assert first.headers["retry-after"] == "3"
    assert "retry-after" not in second.headers
    assert second.json()["id"] == "too_many_requests"


def test_reset_drops_the_connection_mid_body(fresh: Sandbox) -> None:
    fresh.faults = Faults(schedule={1: "reset"})
    # requests reports a body cut short as ChunkedEncodingError, a reset socket as ConnectionError.
    dropped = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
    with pytest.raises(dropped):
        _get(fresh)
    assert _get(fresh).status_code == 200


def test_reset_sends_headers_with_full_length_then_part_of_the_body(fresh: Sandbox) -> None:
    fresh.faults = Faults(schedule={1: "reset"})
    parts = urlsplit(fresh.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/v2/droplets", headers={"Authorization": f"Bearer {fresh.token}"})
    resp = conn.getresponse()
    assert resp.status == 200
    promised = int(resp.getheader("Content-Length"))
    with pytest.raises((http.client.IncompleteRead, ConnectionError)) as info:
        resp.read()
    if isinstance(info.value, http.client.IncompleteRead):
        assert 0 < len(info.value.partial) < promised
    conn.close()


def test_truncate_gives_invalid_json_with_matching_length(fresh: Sandbox) -> None:
    fresh.faults = Faults(schedule={1: "truncate"})
    resp = _get(fresh)
    assert resp.status_code == 200
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.content)


def test_slow_times_out_a_short_client_timeout(fresh: Sandbox) -> None:
    fresh.faults = Faults(schedule={1: "slow"}, slow_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.RequestException):
        _get(fresh, timeout=0.3)
    assert time.monotonic() - started < 1.0
    fresh.faults = Faults(schedule={1: "slow"}, slow_seconds=0.3)
    assert _get(fresh, timeout=5).status_code == 200


def test_mutate_changes_total_between_pages(fresh: Sandbox) -> None:
    before = _get(fresh, "/v2/droplets/backups/policies?per_page=5").json()["meta"]["total"]
    fresh.faults = Faults(schedule={1: "mutate", 2: "mutate", 3: "mutate"})
    totals = [
        _get(fresh, f"/v2/droplets/backups/policies?per_page=5&page={p}").json()["meta"]["total"]
        for p in (2, 3, 4)
    ]
    assert all(abs(t - prev) == 1 for prev, t in pairwise([before, *totals]))
    assert len(fresh.account.droplet_ids()) == totals[-1]


def test_schedule_is_deterministic_by_request_number(fresh: Sandbox) -> None:
    def run() -> list[int]:
        fresh.faults = Faults(schedule={2: "502", 4: "500"})
        return [_get(fresh).status_code for _ in range(5)]

    assert run() == [200, 502, 200, 500, 200]
    assert run() == [200, 502, 200, 500, 200]  # installing faults restarts the numbering


def test_rate_draws_are_repeatable_by_seed(fresh: Sandbox) -> None:
    def run(seed: int) -> list[int]:
        fresh.faults = Faults(rate=0.5, kinds=("500", "503"), seed=seed)
        return [_get(fresh).status_code for _ in range(16)]

    first = run(4)
    assert first == run(4)
    assert {500, 503, 200} == set(first)
    assert first != run(5)


def test_path_pattern_limits_faults(fresh: Sandbox) -> None:
    fresh.faults = Faults(rate=1.0, kinds=("500",), path_pattern=r"/backups/policies$")
    assert _get(fresh).status_code == 200
    assert _get(fresh, "/v2/droplets/backups/policies").status_code == 500


def test_requests_log_records_faults(fresh: Sandbox) -> None:
    fresh.clear_requests()
    fresh.faults = Faults(schedule={2: "503"})
    _get(fresh, "/v2/droplets?per_page=3")
    _get(fresh)
    log = fresh.requests
    assert [(r.method, r.path, r.status, r.fault) for r in log] == [
        ("GET", "/v2/droplets", 200, None),
        ("GET", "/v2/droplets", 503, "503"),
    ]
    assert log[0].query == {"per_page": "3"}
    fresh.clear_requests()
    assert fresh.requests == []


def test_latency_and_jitter_are_applied() -> None:
    with Sandbox(droplets=1, latency_ms=120, jitter_ms=40) as sb:
        started = time.monotonic()
        assert _get(sb).status_code == 200
        assert 0.12 <= time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"rate": 1.5}, "within 0..1"),
        ({"kinds": ("418",), "rate": 0.1}, "unknown fault kind"),
        ({"schedule": {0: "500"}}, "start at 1"),
        ({"schedule": {1: "boom"}}, "unknown fault kind"),
        ({"retry_after": 0}, "retry_after"),
    ],
)
def test_invalid_faults_are_refused(bad: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults(**bad)  # type: ignore[arg-type]


def _raw_get(sb: Sandbox, timeout: float = 10) -> http.client.HTTPResponse:
    parts = urlsplit(sb.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    conn.request("GET", "/v2/droplets", headers={"Authorization": f"Bearer {sb.token}"})
    return conn.getresponse()


def test_redirect_points_at_another_host(fresh: Sandbox) -> None:
    fresh.faults = Faults(schedule={1: "redirect"})
    resp = _raw_get(fresh)
    assert resp.status == 302
    assert resp.getheader("Location") == "http://198.51.100.7/v2/droplets"


def test_gzip_bomb_inflates_past_64_mib(fresh: Sandbox) -> None:
    import zlib

    fresh.faults = Faults(schedule={1: "gzip-bomb"})
    resp = _raw_get(fresh)
    assert resp.getheader("Content-Encoding") == "gzip"
    body = resp.read()
    assert len(body) < 1024 * 1024
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    inflated = 0
    while not inflate.eof:
        inflated += len(inflate.decompress(inflate.unconsumed_tail or body, 8 << 20))
        body = b""
    assert inflated > 64 * 1024 * 1024


def test_huge_header_is_past_what_http_client_reads(fresh: Sandbox) -> None:
    fresh.faults = Faults(schedule={1: "huge-header"})
    with pytest.raises(http.client.LineTooLong):
        _raw_get(fresh)


def test_drip_sends_the_body_a_byte_at_a_time(fresh: Sandbox) -> None:
    fresh.faults = Faults(schedule={1: "drip"}, slow_seconds=0.3)
    started = time.monotonic()
    resp = _raw_get(fresh)
    first = resp.read(1)
    body = first + resp.read()
    assert time.monotonic() - started >= 0.3
    assert json.loads(body)["droplets"] is not None  # whole in the end, only late
