"""Authentication, 404s, rate-limit headers on every answer, and the 429 burst limit."""

from __future__ import annotations

import time

import pytest
import requests

from sqlprovider.sandbox import Sandbox
from sqlprovider.sandbox.ratelimit import RateLimiter

from .conftest import make_session

RATE_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic abc", "Bearer"])
def test_missing_or_wrong_token_is_401(sandbox: Sandbox, auth: str | None) -> None:
    headers = {} if auth is None else {"Authorization": auth}
    resp = requests.get(f"{sandbox.url}/v2/droplets", headers=headers, timeout=10)
    assert resp.status_code == 401
    body = resp.json()
    assert body["id"] == "unauthorized"
    assert body["message"] == "Unable to authenticate you."


def test_token_is_random_sandbox_token_and_hidden_from_repr() -> None:
    first, second = Sandbox(droplets=1), Sandbox(droplets=1)
    assert first.token != second.token
    assert first.token.startswith("sandbox-")
    assert len(first.token) == len("sandbox-") + 32
    assert not first.token.startswith("dop_v1_")
    assert first.token not in repr(first)
    with first:
        assert first.token not in repr(first)
        assert first.url.startswith("http://127.0.0.1:")
        assert not first.url.endswith("/")


@pytest.mark.parametrize(
    "path",
    [
        "/v2/droplets/0/backups",
        "/v2/droplets/-5/backups",
        "/v2/droplets/abc/backups/policy",
        "/v2/droplets/12.5/backups",
        "/v2/droplets/999999999999999999999999/backups",
        "/v2/unknown",
        "/v2/droplets/1/snapshots",
        "/v2/databases/not-a-uuid/backups",
    ],
)
@pytest.mark.unrouted_ok
def test_unknown_things_are_404(sandbox: Sandbox, path: str) -> None:
    resp = make_session(sandbox).get(sandbox.url + path, timeout=10)
    assert resp.status_code == 404
    assert resp.json()["id"] == "not_found"
    assert resp.json()["request_id"]


@pytest.mark.unrouted_ok
def test_rate_headers_on_every_answer(sandbox: Sandbox) -> None:
    session = make_session(sandbox)
    answers = [
        session.get(sandbox.url + "/v2/droplets", timeout=10),
        session.get(sandbox.url + "/v2/nothing", timeout=10),
        session.get(sandbox.url + "/v2/droplets?per_page=0", timeout=10),
        requests.get(sandbox.url + "/v2/droplets", timeout=10),
        session.post(sandbox.url + "/v2/droplets/1/actions", json={}, timeout=10),
    ]
    for resp in answers:
        for name in RATE_HEADERS:
            assert resp.headers[name].isdigit(), (resp.status_code, name)
        assert resp.headers["Content-Type"] == "application/json"
        assert int(resp.headers["Content-Length"]) == len(resp.content)
        assert int(resp.headers["ratelimit-reset"]) >= int(time.time())
    assert answers[0].headers["ratelimit-limit"] == str(10**6)  # the fixture's per_hour
    first, second = (int(a.headers["ratelimit-remaining"]) for a in answers[:2])
    assert second == first - 1


def test_burst_limit_gives_429_with_retry_after() -> None:
    with Sandbox(droplets=3, per_minute=3, per_hour=100, minute_seconds=1.0) as sb:
        session = make_session(sb)
        statuses = [session.get(sb.url + "/v2/droplets", timeout=10) for _ in range(4)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        limited = statuses[-1]
        assert limited.json()["id"] == "too_many_requests"
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["ratelimit-remaining"] == "97"
        assert "retry-after" not in statuses[0].headers
        time.sleep(1.05)
        assert session.get(sb.url + "/v2/droplets", timeout=10).status_code == 200


def test_limits_are_per_token() -> None:
    with Sandbox(droplets=1, per_minute=2, minute_seconds=5.0) as sb:
        session = make_session(sb)
        for _ in range(2):
            assert session.get(sb.url + "/v2/droplets", timeout=10).status_code == 200
        assert session.get(sb.url + "/v2/droplets", timeout=10).status_code == 429
        other = requests.get(
            sb.url + "/v2/droplets", headers={"Authorization": "Bearer other"}, timeout=10
        )
        assert other.status_code == 401  # counted under its own token, so not limited


def test_hourly_limit_has_no_retry_after_and_windows_slide() -> None:
    now = [1000.0]
    limiter = RateLimiter(per_minute=10, per_hour=3, minute_seconds=1.0, clock=lambda: now[0])
    verdicts = []
    for _ in range(4):
        verdicts.append(limiter.check("t"))
        now[0] += 2.0  # past the minute window each time
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[0].reset == 1060  # oldest request + one "hour" of 60 minutes
    assert verdicts[3].retry_after is None
    assert verdicts[3].remaining == 0
    now[0] = 1060.5  # the first request has left the hour window
    assert limiter.check("t").allowed
