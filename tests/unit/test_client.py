"""The HTTP client: status mapping, retries, single flight and secrecy, through a fake transport."""

from __future__ import annotations

import http.client
import json
import threading
import time
import traceback
from typing import Any

import pytest

from sqlprovider.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServiceError,
)
from sqlprovider.http import ApiClient, RateLimiter, RequestStats, ResponseCache, RetryPolicy, Token
from sqlprovider.http.messages import Outgoing, Reply

SECRET = "sandbox-0123456789abcdef0123456789abcdef"
#: What the provider spec declares (the client names them on a 401 or 403).
SCOPES = {"read": ("droplet:read", "database:read"), "write": ("droplet:update",)}
Answer = tuple[int, bytes, dict[str, str]] | Exception


class FakeApi:
    """A transport answering each request with the next scripted answer, recording what it
    was sent."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = list(answers)
        self.sent: list[Outgoing] = []

    def __call__(self, request: Outgoing) -> Reply:
        self.sent.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        return Reply(status, {k.lower(): v for k, v in headers.items()}, body)


def ok(payload: Any) -> Answer:
    return (200, json.dumps(payload).encode(), {"ratelimit-remaining": "4999"})


def error(status: int, api_id: str, message: str, **headers: str) -> Answer:
    body = {"id": api_id, "message": message, "request_id": "req-1"}
    return (status, json.dumps(body).encode(), headers)


def make_client(
    answers: list[Answer], *, ttl: float = 0.0, attempts: int = 3
) -> tuple[ApiClient, FakeApi]:
    client = ApiClient(
        "https://api.example.test",
        Token(SECRET),
        limiter=RateLimiter(),
        cache=ResponseCache(),
        cache_ttl=ttl,
        retry=RetryPolicy(attempts=attempts, base_seconds=0.001, cap_seconds=0.01),
        scopes=SCOPES,
    )
    fake = FakeApi(answers)
    client.transport = fake
    return client, fake


def call(client: ApiClient, stats: RequestStats | None = None) -> Any:
    return client.get("/v2/droplets/7/backups", {"page": 1}, stats=stats or RequestStats())


def test_success_sends_the_bearer_token_and_parses_json() -> None:
    client, fake = make_client([ok({"backups": []})])
    assert call(client) == {"backups": []}
    assert fake.sent[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert fake.sent[0].url == "https://api.example.test/v2/droplets/7/backups?page=1"


@pytest.mark.parametrize(
    ("answer", "kind", "words"),
    [
        (
            error(401, "unauthorized", "Unable to authenticate you."),
            AuthenticationError,
            "refused the token",
        ),
        (error(403, "forbidden", "scope"), AuthenticationError, "droplet:read"),
        (
            error(404, "not_found", "The resource you requested could not be found."),
            NotFoundError,
            "not_found",
        ),
        (error(422, "unprocessable_entity", "nope"), ApiError, "was refused: 422"),
    ],
)
def test_final_statuses_map_to_their_class_without_retry(
    answer: Answer, kind: type, words: str
) -> None:
    client, fake = make_client([answer])
    with pytest.raises(kind, match=words) as caught:
        call(client)
    assert len(fake.sent) == 1
    assert caught.value.request_id == "req-1"
    assert caught.value.method == "GET"
    assert caught.value.url.endswith("/v2/droplets/7/backups")


def test_retryable_statuses_are_retried_then_succeed() -> None:
    stats = RequestStats()
    client, fake = make_client(
        [error(503, "unavailable", "x"), error(429, "too_many_requests", "y"), ok({"a": 1})]
    )
    assert call(client, stats) == {"a": 1}
    assert len(fake.sent) == 3
    assert (stats.requests, stats.retries, stats.rate_limited, stats.pages) == (3, 2, 1, 1)


@pytest.mark.parametrize(
    ("answer", "kind", "words"),
    [
        (error(500, "server_error", "Unexpected server-side error"), ServiceError, "kept failing"),
        (
            error(429, "too_many_requests", "API rate limit exceeded."),
            RateLimitError,
            "still rate limited",
        ),
        ((200, b'{"backups": [', {}), ResponseError, "not valid JSON"),
        (ConnectionResetError("connection reset by peer"), ServiceError, "no complete answer"),
        (http.client.IncompleteRead(b"", 10), ServiceError, "no complete answer"),
        (http.client.RemoteDisconnected("closed"), ServiceError, "no complete answer"),
    ],
)
def test_exhausted_retries_raise_a_clear_error_without_the_token(
    answer: Answer, kind: type, words: str
) -> None:
    client, fake = make_client([answer], attempts=3)
    with pytest.raises(kind, match=words) as caught:
        call(client)
    assert len(fake.sent) == 3
    formatted = "".join(traceback.format_exception(caught.value))
    assert SECRET not in formatted
    assert SECRET not in repr(caught.value.__dict__)
    assert "no partial result" in str(caught.value)


def test_missing_token_fails_before_sending() -> None:
    client = ApiClient(
        "https://api.example.test", None, limiter=RateLimiter(), cache=ResponseCache()
    )
    fake = FakeApi([ok({})])
    client.transport = fake
    with pytest.raises(AuthenticationError, match="set DIGITALOCEAN_TOKEN"):
        call(client)
    assert fake.sent == []


def test_retry_after_pauses_the_shared_limiter() -> None:
    limiter = RateLimiter()
    limiter.observe({"retry-after": "0.2"}, 429)
    started = time.monotonic()
    waited = limiter.acquire()
    assert waited > 0
    assert time.monotonic() - started >= 0.15


def test_sliding_window_paces_beyond_the_burst() -> None:
    limiter = RateLimiter([(3, 0.3)])
    started = time.monotonic()
    for _ in range(6):
        limiter.acquire()
        limiter.release()
    assert time.monotonic() - started >= 0.25  # the 4th request had to wait for the window


def test_cache_ttl_reuses_and_zero_ttl_does_not() -> None:
    cached, fake = make_client([ok({"n": 1})], ttl=60)
    stats = RequestStats()
    call(cached, stats), call(cached, stats)
    assert len(fake.sent) == 1
    assert stats.cache_hits == 1
    uncached, fake2 = make_client([ok({"n": 1})], ttl=0)
    call(uncached), call(uncached)
    assert len(fake2.sent) == 2


def test_concurrent_identical_requests_share_one_call() -> None:
    gate = threading.Event()

    class Slow(FakeApi):
        def __call__(self, request: Outgoing) -> Reply:
            gate.wait(2)
            return super().__call__(request)

    client = ApiClient(
        "https://api.example.test", Token(SECRET), limiter=RateLimiter(), cache=ResponseCache()
    )
    slow = Slow([ok({"n": 1})])
    client.transport = slow
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(call(client))) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    gate.set()
    for thread in threads:
        thread.join()
    assert results == [{"n": 1}] * 4
    assert len(slow.sent) == 1


def test_reprs_hide_the_token() -> None:
    client, _ = make_client([ok({})])
    token = Token(SECRET)
    for text in (repr(client), str(token), repr(token)):
        assert SECRET not in text
    assert token.fingerprint in repr(token)
    with pytest.raises(TypeError):
        __import__("pickle").dumps(token)


def test_remaining_budget_reported_by_the_api_is_respected() -> None:
    limiter = RateLimiter([(5, 60.0), (10, 3600.0)])
    limiter.acquire()
    limiter.release()
    # The API says only 2 requests are left this hour: other clients used the rest.
    limiter.observe(
        {
            "ratelimit-limit": "10",
            "ratelimit-remaining": "2",
            "ratelimit-reset": str(time.time() + 0.3),
        },
        200,
    )
    for _ in range(2):
        limiter.acquire()
        limiter.release()
    started = time.monotonic()
    limiter.acquire()  # the hour budget is spent until the API's reset time
    assert time.monotonic() - started >= 0.2


def test_send_posts_a_json_body_once_and_returns_the_answer() -> None:
    client, fake = make_client([(201, b'{"action": {"id": 9}}', {})])
    answer = client.send(
        "POST", "/v2/droplets/7/actions", body={"type": "snapshot"}, stats=RequestStats()
    )
    assert answer == {"action": {"id": 9}}
    assert [(r.method, r.target, r.body) for r in fake.sent] == [
        ("POST", "/v2/droplets/7/actions", b'{"type":"snapshot"}')
    ]


def test_send_retries_a_429_because_the_api_did_not_process_it() -> None:
    client, fake = make_client(
        [error(429, "too_many_requests", "slow down", **{"retry-after": "0"}), (201, b"{}", {})]
    )
    assert client.send("POST", "/v2/x", body={}, stats=RequestStats()) == {}
    assert len(fake.sent) == 2


@pytest.mark.parametrize(
    "answer",
    [error(500, "server_error", "oops"), ConnectionResetError("reset by peer")],
)
def test_send_never_retries_an_answer_that_may_hide_a_processed_write(answer: Answer) -> None:
    client, fake = make_client([answer, (201, b"{}", {})])
    with pytest.raises(ServiceError) as caught:
        client.send("POST", "/v2/droplets/7/actions", body={}, stats=RequestStats())
    assert caught.value.method == "POST"
    assert len(fake.sent) == 1


def test_a_refused_write_names_the_write_scope_from_the_spec() -> None:
    client, _ = make_client([error(403, "forbidden", "scope")])
    with pytest.raises(AuthenticationError, match="writing needs the droplet:update scope"):
        client.send("POST", "/v2/droplets/7/actions", body={}, stats=RequestStats())


def test_forget_drops_only_the_stale_prefix_of_this_token() -> None:
    client, fake = make_client([ok({"droplets": []})], ttl=60)
    client.get("/v2/droplets", {}, stats=RequestStats())
    client.get("/v2/databases", {}, stats=RequestStats())
    assert client.forget(("/v2/droplets",)) == 1
    client.get("/v2/droplets", {}, stats=RequestStats())
    client.get("/v2/databases", {}, stats=RequestStats())
    assert [r.target for r in fake.sent] == ["/v2/droplets", "/v2/databases", "/v2/droplets"]
