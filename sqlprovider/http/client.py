"""`ApiClient`: one request (any verb), paced, retried when safe, mapped to a typed error.

`get` reads one page (cached, retried on 429, 5xx and dropped connections); `send` makes any
request once, retrying only statuses that say the request was not processed (429), because a
write has no idempotency key. Pagination, fan-out and "did my write happen?" live in the
engine; this module answers a single request completely or raises. Each try of a request goes
through small steps, one job each: pace (`_pace`), send and read under a deadline (`_exchange`,
through the client's `transport` under an `abort.InFlight` handle), judge the answer
(`answers.judge`: redirects, bad JSON, error statuses) and back off (`_backoff`).
`answers.error_for` is the one place that turns HTTP statuses into exception classes
(re-exported here).
Nothing that can carry a request header (the token) leaves this module unmapped. Imports
`http.*` and `errors` only.
"""

from __future__ import annotations

import json
import mmap
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlprovider.errors import (
    AuthenticationError,
    InterfaceError,
    NotFoundError,
    ServiceError,
)
from sqlprovider.http.answers import (
    Failure,
    Query,
    Request,
    error_for,
    final_error,
    judge,
    too_large,
    too_long,
)
from sqlprovider.http.auth import BearerAuth, Token, is_loopback
from sqlprovider.http.cache import CacheKey, Loaded, ResponseCache
from sqlprovider.http.debuglog import debug
from sqlprovider.http.messages import Outgoing, Reply, Transport
from sqlprovider.http.neterrors import (
    REFUSED_ATTEMPTS,
    REFUSED_MAX_WAIT,
    describe_transport_error,
    is_refused,
)
from sqlprovider.http.payload import Body, parse
from sqlprovider.http.ratelimit import RateLimiter
from sqlprovider.http.retry import RetryPolicy
from sqlprovider.http.stats import RequestStats
from sqlprovider.http.waits import WaitBudget, WaitTooLongError
from sqlprovider.spec.record import Record, replace

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "ApiClient", "NotFoundError", "error_for"]


_USER_AGENT = "sqlprovider/0.1 (+https://github.com/sqlprovider)"
#: The default cap on one decoded response body (`max_response_bytes`): a page of 200 Droplets
#: is about 1 MiB, so this only stops answers that are not what the API sends.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

#: Sent with every request; `body.read_body` decodes both encodings in bounded steps.
_HEADERS = {
    "User-Agent": _USER_AGENT,
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
}


class _Control(Record):
    """How a caller can bound and stop one request.

    Attributes:
        cancel: set to stop waiting (for the pacer, before a retry); a request on the wire
            still runs to its end, so it reaches the API before the caller reports an error.
        abort: set to cut off a request on the wire too, dropping its late answer (interrupt).
        budget: the statement's allowance for waiting.
    """

    cancel: threading.Event | None
    abort: threading.Event | None
    budget: WaitBudget


class ApiClient:
    """Sends requests for one token and base URL.

    Args:
        base_url: such as ``https://api.digitalocean.com`` (already checked by `resolve_api_url`).
        token: the API token, or None (every request then fails with a clear message).
        limiter: the token's shared pacer.
        cache: where bodies are shared and kept for `cache_ttl` seconds.
        timeout: seconds one try of a request may take, from connecting to the body's last byte.
        max_connections: size of the keep-alive pool (match the fan-out concurrency).
        max_response_bytes: the largest decoded body accepted; a larger one is an error.
        max_wait: seconds one statement may spend waiting (pacing, backoff) in all.
        scopes: the OAuth scopes a token needs to ``read`` and to ``write`` (from the provider
            spec), named when the API refuses the token.
        transport: what sends each try (tests, recorders); by default an `HttpTransport`
            built on first use, tunnelling through the environment's proxy for a remote API.
    """

    def __init__(
        self,
        base_url: str,
        token: Token | None,
        *,
        limiter: RateLimiter,
        cache: ResponseCache,
        cache_ttl: float = 0.0,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        max_connections: int = 8,
        token_hint: str = "DIGITALOCEAN_TOKEN",
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_wait: float = 300.0,
        scopes: Mapping[str, Sequence[str]] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.base_url = base_url
        self.cache_ttl = cache_ttl
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.max_wait = max_wait
        self.scopes = {k: tuple(v) for k, v in (scopes or {}).items()}
        self._token = token
        self._token_hint = token_hint
        self._limiter = limiter
        self._cache = cache
        self._max_connections = max(1, max_connections)
        self._transport = transport
        self._transport_lock = threading.Lock()
        if transport is None:
            # The wire code (`http.client`, `ssl`) loads with the client rather than on its
            # first request, so a process's first API statement takes as long as its second
            # (figure h); connect() pays it once, with the spec.
            import sqlprovider.http.transport  # noqa: F401

    def __repr__(self) -> str:
        return f"ApiClient({self.base_url!r}, token={self._token!r})"

    @property
    def token(self) -> Token | None:
        """The token (a masked object: only `reveal()` shows the secret)."""
        return self._token

    @property
    def rate_limits(self) -> tuple[tuple[int, float], ...]:
        """The (requests, seconds) windows requests of this client are paced under."""
        return self._limiter.limits

    @property
    def identity(self) -> tuple[str, str]:
        """What makes this client's answers its own: the API URL and the token's fingerprint."""
        return (self.base_url, self._token.fingerprint if self._token is not None else "-")

    @property
    def cache(self) -> ResponseCache:
        """The response cache this client reads and fills."""
        return self._cache

    @property
    def transport(self) -> Transport:
        """What sends each try: the default `HttpTransport` is built (and http.client loaded)
        only when the first request is made.

        Raises:
            InterfaceError: the environment's proxy cannot be used (see `_new_transport`).
        """
        with self._transport_lock:
            if self._transport is None:
                self._transport = self._new_transport()
            return self._transport

    @transport.setter
    def transport(self, transport: Transport) -> None:
        """Send through `transport` from now on (tests wrap the default one to record)."""
        with self._transport_lock:
            self._transport = transport

    def _new_transport(self) -> Transport:
        from sqlprovider.http.connect import environ_proxy, proxy_for
        from sqlprovider.http.transport import HttpTransport

        parts = urlsplit(self.base_url)
        proxy = None
        if is_loopback(parts.hostname or ""):
            pass  # the token stays on this machine: no proxy from the environment
        elif parts.scheme == "http":
            _refuse_plain_proxy(environ_proxy(self.base_url))
        else:
            proxy = proxy_for(self.base_url)
        return HttpTransport(
            max_connections=self._max_connections,
            timeout=self.timeout,
            max_body=self.max_response_bytes,
            proxy=proxy,
        )

    def close(self) -> None:
        """Release pooled connections."""
        with self._transport_lock:
            transport = self._transport
        close = getattr(transport, "close", None)
        if close is not None:
            close()

    def cached(
        self, path: str, params: Mapping[str, str | int], *, stats: RequestStats
    ) -> tuple[Any, Body] | None:
        """(parsed JSON, stored body) of `GET path?params` if the cache holds a fresh one.

        Lets a caller skip a worker thread for answers it can have at once, and know the bytes
        an answer came from (the same bytes make the same rows, see `engine.rows_memo`).
        """
        if self._token is None:
            return None
        key = self._key("GET", path, _query(params))
        body = self._cache.peek(key, self.cache_ttl)
        if body is None:
            return None
        try:
            payload = parse(body)
        except (ValueError, RecursionError):
            self._forget_unchecked(key)
            return None  # the caller sends the request, which judges the new answer
        stats.add(cache_hits=1)
        return payload, body

    def _forget_unchecked(self, key: CacheKey) -> None:
        """Drop a stored body that is not JSON.

        A large body is stored before anyone parsed it (it is parsed on the thread that reads
        the pages, see `payload.Unparsed`), so the cache can hold one the API broke off; the
        first reader to find that out drops it, and the request is sent again.
        """
        self._cache.forget(key.__eq__)

    def _key(self, method: str, path: str, query: Query) -> CacheKey:
        """Everything that makes an answer: API URL, token, method, path and query."""
        base_url, fingerprint = self.identity
        return (base_url, fingerprint, method, path, query)

    def forget(self, prefixes: tuple[str, ...]) -> int:
        """Drop this client's cached answers under any of the path `prefixes` (made stale)."""
        if self._token is None or not prefixes:
            return 0
        base_url, fingerprint = self.identity
        return self._cache.forget(
            lambda key: key[0] == base_url and key[1] == fingerprint and key[3].startswith(prefixes)
        )

    def _no_token(self, request: Request) -> AuthenticationError:
        return AuthenticationError(
            f"no DigitalOcean token for {request.where}: set {self._token_hint}, pass "
            "connect(token=...), or try the local sandbox with --sandbox",
            status=None,
            method=request.method,
            url=request.url,
        )

    def send(
        self,
        verb: str,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Any = None,
        stats: RequestStats,
        cancel: threading.Event | None = None,
        budget: WaitBudget | None = None,
        abort: threading.Event | None = None,
        retry_statuses: frozenset[int] = frozenset({429}),
    ) -> Any:
        """Make one request, never cached, and return its parsed JSON body (None when empty).

        Only a status in `retry_statuses` is retried (429 by default: the API did not process
        the request). A 5xx, a timeout or a dropped connection is raised at once as a
        `ServiceError`, because the request may have been carried out.

        Raises:
            AuthenticationError, NotFoundError, RateLimitError, ServiceError, ResponseError,
            ApiError, InterruptedError: as for `get`.
        """
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        request = Request(
            verb,
            path,
            self.base_url + path,
            _query(query or {}),
            data,
            retry_statuses=retry_statuses,
            retry_transport=False,
            empty_ok=True,
        )
        if self._token is None:
            raise self._no_token(request)
        return self._load(request, stats, self._control(cancel, abort, budget)).payload

    def get(
        self,
        path: str,
        params: Mapping[str, str | int],
        *,
        stats: RequestStats,
        cancel: threading.Event | None = None,
        budget: WaitBudget | None = None,
        abort: threading.Event | None = None,
    ) -> Any:
        """Return the parsed JSON body of `GET path?params`, cached for `cache_ttl` and shared
        with an identical GET in flight.

        Raises:
            AuthenticationError: no token, or the API refused it.
            NotFoundError: 404.
            RateLimitError: still 429 after every retry, or the wait would pass `max_wait`.
            ServiceError, ResponseError: still failing after every retry; a redirect; a body
                larger than `max_response_bytes`.
            ApiError: any other error status.
            InterruptedError: `cancel` was set while waiting, or `abort` while on the wire (the
                late answer, if any, is dropped).
        """
        return self.get_answer(
            path, params, stats=stats, cancel=cancel, budget=budget, abort=abort
        )[0]

    def get_answer(
        self,
        path: str,
        params: Mapping[str, str | int],
        *,
        stats: RequestStats,
        cancel: threading.Event | None = None,
        budget: WaitBudget | None = None,
        abort: threading.Event | None = None,
        parse_large: bool = True,
    ) -> tuple[Any, Body]:
        """Like `get`, with the body it was parsed from: its size is what keeping the answer
        costs, and the same bytes make the same rows (`engine.rows_memo`).

        Args:
            parse_large: False returns a large body unparsed, as the `mmap.mmap` it was read
                into, for the caller to parse on the thread that reads it (`payload.Unparsed`
                says why); its JSON is not checked here.

        Raises:
            The errors of `get`.
        """
        request = Request(
            "GET", path, self.base_url + path, _query(params), parse_large=parse_large
        )
        if self._token is None:
            raise self._no_token(request)
        control = self._control(cancel, abort, budget)
        key = self._key("GET", path, request.query)
        loaded = self._cache.fetch(
            key,
            self.cache_ttl,
            lambda: self._load(request, stats, control),
        )
        if loaded.shared:
            stats.add(cache_hits=1)
        if loaded.payload is not None:
            return loaded.payload, loaded.body
        if not parse_large and isinstance(loaded.body, mmap.mmap):
            return loaded.body, loaded.body
        try:
            return parse(loaded.body), loaded.body
        except (ValueError, RecursionError):
            # A stored (or shared) large body nobody had checked: drop it, and send the request
            # again, judged here like any other answer (retried, or a clear error).
            self._forget_unchecked(key)
            loaded = self._load(replace(request, parse_large=True), stats, control)
            if self.cache_ttl > 0:  # judged and parsed: the answer the cache lacked
                self._cache.store(key, loaded.body)
            return loaded.payload, loaded.body

    def _control(
        self,
        cancel: threading.Event | None,
        abort: threading.Event | None,
        budget: WaitBudget | None,
    ) -> _Control:
        return _Control(cancel, abort, budget if budget is not None else WaitBudget(self.max_wait))

    def _load(self, request: Request, stats: RequestStats, control: _Control) -> Loaded:
        """Try `request` as often as the retry policy allows; its answer, or the final error."""
        attempts = self.retry.attempts
        failure = Failure(None, "no attempt was made", {})
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                stats.add(retries=1)
            outcome = self._attempt(request, stats, control, attempt)
            if isinstance(outcome, Loaded):
                return outcome
            failure = outcome
            if failure.status is None and not request.retry_transport:
                raise final_error(failure, request, attempt)
            if failure.refused and attempt >= min(attempts, REFUSED_ATTEMPTS):
                # Nothing listens there: a short, documented budget (neterrors), not the whole
                # retry ladder, so a mistyped --api-url fails within about a second.
                raise final_error(failure, request, attempt)
            if attempt < attempts:
                self._backoff(request, attempt, failure, control)
        raise final_error(failure, request, attempts)

    def _attempt(
        self, request: Request, stats: RequestStats, control: _Control, attempt: int
    ) -> Loaded | Failure:
        """One try: paced, sent, read and judged."""
        self._pace(request, stats, control)
        started = time.monotonic()
        try:
            exchanged = self._exchange(request, control)
        finally:
            self._limiter.release()
        elapsed = time.monotonic() - started
        if isinstance(exchanged, Failure):
            stats.add(requests=1, api_seconds=elapsed)
            debug(
                __name__,
                "%s %s -> %s after %.0f ms",
                request.where,
                dict(request.query),
                exchanged.detail,
                elapsed * 1e3,
            )
            return exchanged
        status = exchanged.status
        stats.add(requests=1, bytes=len(exchanged.body), api_seconds=elapsed)
        debug(
            __name__,
            "%s %s -> %s in %.0f ms",
            request.where,
            dict(request.query),
            status,
            elapsed * 1e3,
        )
        self._limiter.observe(exchanged.headers, status)
        if status == 429:
            stats.add(rate_limited=1)
        outcome = judge(request, exchanged, attempt, self.scopes)
        if isinstance(outcome, Loaded):
            stats.add(pages=1)
        return outcome

    def _pace(self, request: Request, stats: RequestStats, control: _Control) -> None:
        """Wait for the rate limiter; a wait past `max_wait` fails at once."""
        try:
            stats.add(throttle_seconds=self._limiter.acquire(control.cancel, control.budget))
        except WaitTooLongError as exc:
            raise too_long(request, exc) from None

    def _exchange(self, request: Request, control: _Control) -> Reply | Failure:
        """Send one try and read its whole body within `timeout`, or say why it failed.

        Transport failures become a `Failure` (to retry); anything else that could carry a
        request header, such as a `ValueError` from http.client, is mapped without its text.
        """
        from sqlprovider.http.abort import InFlight
        from sqlprovider.http.body import BodyTooLargeError, BodyUnreadableError
        from sqlprovider.http.transport import TRANSIENT

        transport = self.transport
        outgoing = Outgoing(request.method, _url(request), self._headers(request), request.body)
        with InFlight(time.monotonic() + self.timeout, control.abort) as handle:
            try:
                reply = transport(outgoing)
                if len(reply.body) > self.max_response_bytes:  # a transport without the cap
                    raise BodyTooLargeError(self.max_response_bytes)
            except BodyTooLargeError as exc:
                raise too_large(request, exc, self.max_response_bytes) from None
            except BodyUnreadableError as exc:
                return Failure(exc.status, f"an answer with {exc}", {})
            except TRANSIENT as exc:
                return self._cut_off(request, handle.reason, exc)
            except Exception as exc:  # noqa: BLE001 - may carry the Authorization header
                raise ServiceError(
                    f"{request.where} could not be sent ({type(exc).__name__}); the request "
                    "was not made. If this persists, report it with the statement that caused it.",
                    status=None,
                    method=request.method,
                    url=request.url,
                ) from None
            if handle.reason is not None:
                # Ended from outside as the body ended: what was read may be cut short.
                return self._cut_off(request, handle.reason, None)
        if control.abort is not None and control.abort.is_set():
            raise InterruptedError("the statement was interrupted (a late answer was dropped)")
        return reply

    def _cut_off(self, request: Request, reason: str | None, exc: BaseException | None) -> Failure:
        """The `Failure` of a try that got no complete answer (or the interrupt it was)."""
        if reason == "cancel":
            raise InterruptedError("the statement was interrupted") from None
        if reason == "deadline" or exc is None:
            return Failure(None, f"no complete answer within the {self.timeout:g} s timeout", {})
        detail = describe_transport_error(exc, request.url, self.timeout)
        return Failure(None, detail, {}, refused=is_refused(exc))

    def _headers(self, request: Request) -> dict[str, str]:
        headers = dict(_HEADERS)
        if request.body is not None:
            headers["Content-Type"] = "application/json"
        if self._token is not None:
            BearerAuth(self._token).add_to(headers)
        return headers

    def _backoff(self, request: Request, attempt: int, failure: Failure, control: _Control) -> None:
        """Wait before the next try, within the statement's budget."""
        delay = self.retry.delay(attempt, failure.retry_after)
        if failure.refused:
            delay = min(delay, REFUSED_MAX_WAIT)
        why = "the API's retry-after" if failure.retry_after is not None else "backoff"
        try:
            control.budget.claim(delay, why=why, remaining=self._limiter.api_remaining)
        except WaitTooLongError as exc:
            if failure.status == 429:
                raise too_long(request, exc) from None
            raise final_error(failure, request, attempt) from None
        if control.cancel is not None:
            if control.cancel.wait(delay):
                raise InterruptedError("the statement was interrupted while waiting to retry")
        else:
            time.sleep(delay)


def _refuse_plain_proxy(proxy: str | None) -> None:
    """Plain http through a proxy would hand the token to the proxy in clear."""
    if proxy:
        raise InterfaceError(
            f"refusing to send the token in clear http through the proxy at "
            f"{urlsplit(proxy if '://' in proxy else f'http://{proxy}').hostname} (from the "
            "environment's HTTP_PROXY/ALL_PROXY): use https, or add the API host to NO_PROXY"
        )


def _url(request: Request) -> str:
    """The request's URL with its query (encoded as forms are: a space as ``+``)."""
    return f"{request.url}?{urlencode(request.query)}" if request.query else request.url


def _query(params: Mapping[str, str | int]) -> Query:
    return tuple(sorted((k, str(v)) for k, v in params.items()))
