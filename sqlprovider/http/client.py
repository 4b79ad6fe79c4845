"""`ApiClient`: one request (any verb), paced, retried when safe, mapped to a typed error.

`get` reads one page (cached, retried on 429, 5xx and dropped connections); `send` makes any
request once, retrying only statuses that say the request was not processed (429), because a
write has no idempotency key. Pagination, fan-out and "did my write happen?" live in the
engine; this module answers a single request completely or raises. It is the one place that
turns HTTP statuses into exception classes (`error_for`).
Imports `http.*` and `errors` only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlprovider.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServiceError,
)
from sqlprovider.http.auth import BearerAuth, Token
from sqlprovider.http.cache import CacheKey, Loaded, ResponseCache
from sqlprovider.http.neterrors import (
    REFUSED_ATTEMPTS,
    REFUSED_MAX_WAIT,
    describe_transport_error,
    is_refused,
)
from sqlprovider.http.ratelimit import RateLimiter
from sqlprovider.http.retry import RETRY_STATUSES, RetryPolicy
from sqlprovider.http.stats import RequestStats

if TYPE_CHECKING:
    import requests

__all__ = ["ApiClient", "NotFoundError", "error_for"]

_logger = logging.getLogger(__name__)
_USER_AGENT = "sqlprovider/0.1 (+https://github.com/sqlprovider)"


@dataclass(frozen=True)
class _Failure:
    """Why one try failed, kept to build the final error once retries run out."""

    status: int | None
    detail: str
    body: Mapping[str, Any]


class ApiClient:
    """Sends requests for one token and base URL.

    Args:
        base_url: such as ``https://api.digitalocean.com`` (already checked by `resolve_api_url`).
        token: the API token, or None (every request then fails with a clear message).
        limiter: the token's shared pacer.
        cache: where bodies are shared and kept for `cache_ttl` seconds.
        timeout: seconds to wait for a connection and for each read.
        max_connections: size of the keep-alive pool (match the fan-out concurrency).
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
    ) -> None:
        self.base_url = base_url
        self.cache_ttl = cache_ttl
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._token = token
        self._token_hint = token_hint
        self._limiter = limiter
        self._cache = cache
        self._max_connections = max(1, max_connections)
        self._session: requests.Session | None = None
        self._mounts: list[tuple[str, requests.adapters.BaseAdapter]] = []

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
    def cache(self) -> ResponseCache:
        """The response cache this client reads and fills."""
        return self._cache

    def mount(self, prefix: str, adapter: requests.adapters.BaseAdapter) -> None:
        """Route requests under `prefix` through `adapter` (tests, recording, custom transports)."""
        self._mounts.append((prefix, adapter))
        if self._session is not None:
            self._session.mount(prefix, adapter)

    def _http(self) -> requests.Session:
        """The keep-alive session, built on first use: `requests` is imported only when needed."""
        if self._session is None:
            import requests
            from requests.adapters import HTTPAdapter

            session = requests.Session()
            pooled = HTTPAdapter(pool_connections=1, pool_maxsize=self._max_connections)
            session.mount("http://", pooled)
            session.mount("https://", pooled)
            for prefix, adapter in self._mounts:
                session.mount(prefix, adapter)
            session.headers["User-Agent"] = _USER_AGENT
            session.headers["Accept"] = "application/json"
            if self._token is not None:
                session.auth = BearerAuth(self._token)
            self._session = session
        return self._session

    def close(self) -> None:
        """Release pooled connections."""
        if self._session is not None:
            self._session.close()

    def cached(self, path: str, params: Mapping[str, str | int], *, stats: RequestStats) -> Any:
        """The parsed body of `GET path?params` if the cache holds a fresh one, else None.

        Lets a caller skip a worker thread for answers it can have at once.
        """
        if self._token is None:
            return None
        body = self._cache.peek(self._key(path, params), self.cache_ttl)
        if body is None:
            return None
        stats.add(cache_hits=1)
        return json.loads(body)

    def _key(self, path: str, params: Mapping[str, str | int]) -> CacheKey:
        assert self._token is not None
        query = tuple(sorted((k, str(v)) for k, v in params.items()))
        return (self._token.fingerprint, "GET", path, query)

    def forget(self, prefixes: tuple[str, ...]) -> int:
        """Drop this token's cached answers under any of the path `prefixes` (made stale)."""
        if self._token is None or not prefixes:
            return 0
        fingerprint = self._token.fingerprint
        return self._cache.forget(lambda key: key[0] == fingerprint and key[2].startswith(prefixes))

    def _no_token(self, verb: str, path: str) -> AuthenticationError:
        return AuthenticationError(
            f"no DigitalOcean token for {verb} {path}: set {self._token_hint}, pass "
            "connect(token=...), or try the local sandbox with --sandbox",
            status=None,
            method=verb,
            url=self.base_url + path,
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
        retry_statuses: frozenset[int] = frozenset({429}),
    ) -> Any:
        """Make one request, never cached, and return its parsed JSON body (None when empty).

        Only a status in `retry_statuses` is retried (429 by default: the API did not process
        the request). A 5xx, a timeout or a dropped connection is raised at once as a
        `ServiceError`, because the request may have been carried out.

        Raises:
            AuthenticationError, NotFoundError, RateLimitError, ServiceError, ResponseError,
            ApiError: as for `get`.
        """
        import requests

        if self._token is None:
            raise self._no_token(verb, path)
        session = self._http()
        url = self.base_url + path
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"} if data is not None else None
        params = tuple(sorted((k, str(v)) for k, v in (query or {}).items()))
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                stats.add(retries=1)
            stats.add(throttle_seconds=self._limiter.acquire(cancel))
            started = time.monotonic()
            try:
                response = session.request(
                    verb, url, params=params, data=data, headers=headers, timeout=self.timeout
                )
                content = response.content
            except requests.RequestException as exc:
                stats.add(requests=1, api_seconds=time.monotonic() - started)
                _logger.debug("%s %s -> %s", verb, path, type(exc).__name__)
                raise ServiceError(
                    f"{verb} {path} got no complete answer "
                    f"({describe_transport_error(exc, url, self.timeout)})",
                    status=None,
                    method=verb,
                    url=url,
                ) from exc
            finally:
                self._limiter.release()
            status = response.status_code
            stats.add(requests=1, bytes=len(content), api_seconds=time.monotonic() - started)
            _logger.debug("%s %s -> %s", verb, path, status)
            self._limiter.observe(response.headers, status)
            if status == 429:
                stats.add(rate_limited=1)
            if status < 400:
                if not content.strip():
                    return None
                try:
                    return json.loads(content)
                except ValueError as exc:
                    raise ResponseError(
                        f"{verb} {path} answered {status} with a body that is not valid JSON "
                        f"({exc})",
                        status=status,
                        method=verb,
                        url=url,
                    ) from exc
            error_body = _error_body(content)
            if status not in retry_statuses or attempt >= self.retry.attempts:
                raise error_for(status, verb, url, error_body, attempts=attempt)
            retry_after = _seconds(response.headers.get("retry-after")) if status == 429 else None
            self._backoff(attempt, retry_after, cancel)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def get(
        self,
        path: str,
        params: Mapping[str, str | int],
        *,
        stats: RequestStats,
        cancel: threading.Event | None = None,
    ) -> Any:
        """Return the parsed JSON body of `GET path?params`.

        Raises:
            AuthenticationError: no token, or the API refused it.
            NotFoundError: 404.
            RateLimitError, ServiceError, ResponseError: still failing after every retry.
            ApiError: any other error status.
        """
        return self.get_sized(path, params, stats=stats, cancel=cancel)[0]

    def get_sized(
        self,
        path: str,
        params: Mapping[str, str | int],
        *,
        stats: RequestStats,
        cancel: threading.Event | None = None,
    ) -> tuple[Any, int]:
        """Like `get`, with the size of the body in bytes (what keeping the answer costs).

        Raises:
            The errors of `get`.
        """
        if self._token is None:
            raise self._no_token("GET", path)
        key = self._key(path, params)
        loaded = self._cache.fetch(
            key, self.cache_ttl, lambda: self._load(path, key[3], stats, cancel)
        )
        if loaded.shared:
            stats.add(cache_hits=1)
        if loaded.payload is not None:
            return loaded.payload, len(loaded.body)
        return json.loads(loaded.body), len(loaded.body)

    def _load(
        self,
        path: str,
        query: tuple[tuple[str, str], ...],
        stats: RequestStats,
        cancel: threading.Event | None,
    ) -> Loaded:
        import requests

        transient = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        )
        session = self._http()
        url = self.base_url + path
        failure = _Failure(None, "no attempt was made", {})
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                stats.add(retries=1)
            stats.add(throttle_seconds=self._limiter.acquire(cancel))
            started = time.monotonic()
            lost: Exception | None = None
            try:
                response = session.get(url, params=query, timeout=self.timeout)
                body = response.content
            except transient as exc:
                lost = exc
            finally:
                self._limiter.release()
            if lost is not None:
                elapsed = time.monotonic() - started
                stats.add(requests=1, api_seconds=elapsed)
                failure = _Failure(None, describe_transport_error(lost, url, self.timeout), {})
                _logger.debug(
                    "GET %s %s -> %s after %.0f ms",
                    path,
                    dict(query),
                    failure.detail,
                    elapsed * 1e3,
                )
                if is_refused(lost):
                    # Nothing listens there: a short, documented budget (neterrors), not the
                    # full retry ladder, so a mistyped --api-url fails within about a second.
                    if attempt >= min(self.retry.attempts, REFUSED_ATTEMPTS):
                        raise _final_error(failure, url, attempt) from lost
                    wait = min(self.retry.delay(attempt), REFUSED_MAX_WAIT)
                    self._backoff(attempt, wait, cancel)
                    continue
                self._backoff(attempt, None, cancel)
                continue
            elapsed = time.monotonic() - started
            stats.add(requests=1, bytes=len(body), api_seconds=elapsed)
            status = response.status_code
            _logger.debug("GET %s %s -> %s in %.0f ms", path, dict(query), status, elapsed * 1e3)
            self._limiter.observe(response.headers, status)
            if status == 429:
                stats.add(rate_limited=1)
            if status < 400:
                try:
                    payload = json.loads(body)
                except ValueError as exc:
                    failure = _Failure(status, f"a body that is not valid JSON ({exc})", {})
                    self._backoff(attempt, None, cancel)
                    continue
                stats.add(pages=1)
                return Loaded(body, payload)
            error_body = _error_body(body)
            if status not in RETRY_STATUSES:
                raise error_for(status, "GET", url, error_body, attempts=attempt)
            failure = _Failure(
                status, f"{status} {error_body.get('message', '')}".strip(), error_body
            )
            retry_after = _seconds(response.headers.get("retry-after")) if status == 429 else None
            self._backoff(attempt, retry_after, cancel)
        raise _final_error(failure, url, self.retry.attempts)

    def _backoff(
        self, attempt: int, retry_after: float | None, cancel: threading.Event | None
    ) -> None:
        if attempt >= self.retry.attempts:
            return
        delay = self.retry.delay(attempt, retry_after)
        if cancel is not None:
            if cancel.wait(delay):
                raise InterruptedError("the statement was interrupted while waiting to retry")
        else:
            time.sleep(delay)


def error_for(
    status: int, method: str, url: str, body: Mapping[str, Any], *, attempts: int = 1
) -> ApiError:
    """Map an error status to its exception class, with a message that says what to do."""
    api_id = body.get("id")
    request_id = body.get("request_id")
    said = f"{status} {api_id or 'error'}: {body.get('message') or 'no message'}"
    where = f"{method} {_path_of(url)}"
    suffix = f" (request_id {request_id})" if request_id else ""
    kwargs: dict[str, Any] = {
        "status": status,
        "method": method,
        "url": url,
        "request_id": request_id,
        "api_id": api_id,
        "api_message": body.get("message") if isinstance(body.get("message"), str) else None,
    }
    if status in (401, 403):
        return AuthenticationError(
            f"the API refused the token for {where} ({said}){suffix}. Check DIGITALOCEAN_TOKEN "
            "or connect(token=...); "
            + (
                "reading needs the droplet:read and database:read scopes."
                if method == "GET"
                else "writing needs the droplet:update scope."
            ),
            **kwargs,
        )
    if status == 404:
        return NotFoundError(f"{where}: {said}{suffix}", **kwargs)
    if status == 429:
        return RateLimitError(
            f"{where} was still rate limited after {attempts} attempts ({said}){suffix}; no "
            "partial result was returned. Wait a minute, or lower max_concurrency.",
            **kwargs,
        )
    if status >= 500:
        return ServiceError(
            f"{where} kept failing on the API side after {attempts} attempts ({said}){suffix}; "
            "no partial result was returned. Try again later.",
            **kwargs,
        )
    return ApiError(f"{where} was refused: {said}{suffix}", **kwargs)


def _final_error(failure: _Failure, url: str, attempts: int, verb: str = "GET") -> ApiError:
    if failure.status is not None and failure.status >= 400:
        return error_for(failure.status, verb, url, failure.body, attempts=attempts)
    where = f"{verb} {_path_of(url)}"
    if failure.status is not None:
        return ResponseError(
            f"{where} answered {failure.status} with {failure.detail} on each of {attempts} "
            "attempts; no partial result was returned. Try again later.",
            status=failure.status,
            method=verb,
            url=url,
        )
    return ServiceError(
        f"{where} got no complete answer after {attempts} attempt{'s' if attempts != 1 else ''} "
        f"({failure.detail}); no partial result was returned. Check the network and the API URL "
        "(--api-url, api_url=), or try again later.",
        status=None,
        method=verb,
        url=url,
    )


def _error_body(body: bytes) -> Mapping[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _path_of(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."
