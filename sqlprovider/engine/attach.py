"""Put the provider's tables on an apsw connection: `attach(connection, token=..., ...)`.

The one place that assembles spec, HTTP client, rate limiter, cache and engine session from
user settings. `dbapi.connect` and the shell build on it; apsw users can call it directly and
query the quoted names (`"digitalocean.compute.droplets"`). Imports `spec`, `http`, `engine`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import apsw

from sqlprovider.engine import Session
from sqlprovider.engine.metadata import install_metadata
from sqlprovider.errors import InterfaceError
from sqlprovider.http import (
    ApiClient,
    RetryPolicy,
    limiter_for,
    resolve_api_url,
    resolve_token,
    shared_cache,
)
from sqlprovider.http.auth import Token
from sqlprovider.http.ratelimit import DEFAULT_WINDOWS
from sqlprovider.spec import Provider, load_providers


@functools.lru_cache(maxsize=8)
def _providers(spec_dir: str | None) -> tuple[Provider, ...]:
    return load_providers(spec_dir)


def load_provider(spec_dir: str | Path | None = None) -> Provider:
    """The (single) provider of `spec_dir`, loaded once per process."""
    providers = _providers(str(spec_dir) if spec_dir is not None else None)
    if len(providers) != 1:
        raise InterfaceError(f"expected one provider in the spec folder, found {len(providers)}")
    return providers[0]


def attach(
    connection: apsw.Connection,
    *,
    token: str | Token | None = None,
    api_url: str | None = None,
    max_concurrency: int = 16,
    cache_ttl: float = 0.0,
    timeout: float = 30.0,
    retries: int = 5,
    backoff: float = 0.5,
    rate_limits: Sequence[tuple[int, float]] = DEFAULT_WINDOWS,
    allow_http: bool = False,
    spec_dir: str | Path | None = None,
) -> Session:
    """Register every resource of the provider, and the metadata tables, on `connection`.

    Args:
        token: API token; else the provider's token variables (DIGITALOCEAN_TOKEN, then
            DIGITALOCEAN_ACCESS_TOKEN).
        api_url: base URL; else $DIGITALOCEAN_API_URL, else the public API.
        max_concurrency: parallel requests per statement.
        cache_ttl: seconds a response may be reused across statements (0: never).
        timeout: seconds to wait for a connection or a read.
        retries: retries of a failing request (429, 5xx, network) before the statement fails.
        backoff: first backoff ceiling in seconds (doubles per retry, with jitter).
        rate_limits: (requests, seconds) windows to stay under, per token, process-wide.
        allow_http: permit plain http to a host that is not loopback.
        spec_dir: a folder of provider specs other than the bundled one.

    Raises:
        InterfaceError: a bad argument (non-positive concurrency, a refused URL...).
    """
    if max_concurrency < 1 or timeout <= 0 or retries < 0 or cache_ttl < 0:
        raise InterfaceError(
            "max_concurrency must be >= 1, timeout > 0, retries >= 0 and cache_ttl >= 0"
        )
    provider = load_provider(spec_dir)
    resolved = resolve_token(token, provider.token_env)
    url = resolve_api_url(api_url, provider.api_url_env, provider.api_url, allow_http=allow_http)
    limiter = limiter_for(resolved.fingerprint if resolved else "-", rate_limits)
    client = ApiClient(
        url,
        resolved,
        limiter=limiter,
        cache=shared_cache(),
        cache_ttl=cache_ttl,
        retry=RetryPolicy(attempts=retries + 1, base_seconds=backoff),
        timeout=timeout,
        max_connections=max_concurrency,
        token_hint=" or ".join(provider.token_env) or "the token",
    )
    session = Session(connection, provider, client, max_concurrency)
    session.install()
    install_metadata(connection, session, provider)
    return session
