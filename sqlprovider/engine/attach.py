"""Put the provider's tables on an apsw connection: `attach(connection, token=..., ...)`.

The one place that assembles spec, accounts (each an HTTP client with its token, rate limiter
and cache keys) and engine session from a `ConnectOptions` (the settings themselves, their
defaults and checks live in `options`). `dbapi.connect` and the shell build on it; apsw users
can call it directly and query the quoted names (`"digitalocean.compute.droplets"`).
Imports `spec`, `http`, `options`, `engine`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import apsw

from sqlprovider.engine import Session
from sqlprovider.engine.metadata import install_metadata
from sqlprovider.errors import InterfaceError
from sqlprovider.http import (
    DEFAULT_ACCOUNT,
    Account,
    AccountConfig,
    ApiClient,
    Config,
    RetryPolicy,
    limiter_for,
    load_config,
    resolve_api_url,
    resolve_token,
    shared_cache,
)
from sqlprovider.http.auth import ApiUrlError
from sqlprovider.http.inflight import CappedLimiter
from sqlprovider.options import ConnectOptions, OptionError
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
    connection: apsw.Connection, options: ConnectOptions | None = None, **settings: Any
) -> Session:
    """Register every resource of the provider, and the metadata tables, on `connection`.

    Args:
        connection: the apsw connection to serve.
        options: the connection settings (see `ConnectOptions`); `settings` override them.
        **settings: any `ConnectOptions` field by name (token, api_url, max_concurrency...).

    Raises:
        InterfaceError: a bad setting (`OptionError` names it) or a refused URL.
    """
    options = (options or ConnectOptions()).replace(**settings) if settings else options
    options = options or ConnectOptions()
    provider = load_provider(options.spec_dir)
    skip = options.on_account_error == "skip"
    if options.token is not None:
        if options.accounts is not None:
            raise InterfaceError("pass token= (one account) or accounts=, not both")
        chosen = [AccountConfig(DEFAULT_ACCOUNT, token=resolve_token(options.token, ()))]
        config = Config({DEFAULT_ACCOUNT: chosen[0]}, (DEFAULT_ACCOUNT,))
    else:
        config = load_config(options.config)
        chosen = config.select(options.accounts)
    built = []
    for entry in chosen:
        url = _api_url(entry, options, provider)
        problem = None
        try:
            resolved = entry.resolve_token(provider.token_env)
        except InterfaceError as exc:
            if not skip:
                raise
            resolved, problem = None, str(exc)
        hint = problem or " or ".join(provider.token_env) or "the token"
        if entry.name != DEFAULT_ACCOUNT and problem is None:
            hint = f"a token for account {entry.name!r}"
        fingerprint = resolved.fingerprint if resolved else "-"
        windows = options.rate_limits or provider.rate_limits
        client = ApiClient(
            url,
            resolved,
            limiter=CappedLimiter(limiter_for(fingerprint, windows, url)),
            cache=shared_cache(),
            cache_ttl=options.cache_ttl,
            retry=RetryPolicy(attempts=options.retries + 1, base_seconds=options.backoff),
            timeout=options.timeout,
            max_connections=options.max_concurrency,
            token_hint=hint,
            max_response_bytes=options.max_response_bytes,
            max_wait=options.max_wait,
            scopes=provider.scopes,
        )
        built.append(Account(entry.name, url, client, problem))
    session = Session(connection, provider, built, options.max_concurrency, options)
    session.config = config
    session.install()
    install_metadata(connection, session, provider)
    return session


def _api_url(entry: AccountConfig, options: ConnectOptions, provider: Provider) -> str:
    """The account's base URL, checked; a bad `api_url` setting is an `OptionError`, so every
    entry point names it its own way (`--api-url` in the CLI, `?api_url=` in a URL).

    Raises:
        OptionError: the `api_url` setting cannot be used.
        ApiUrlError: the account's `api_url` in the config file, or the environment's, cannot.
    """
    try:
        return resolve_api_url(
            entry.api_url or options.api_url,
            provider.api_url_env,
            provider.api_url,
            allow_http=options.allow_http,
            path_prefix=provider.path_prefix,
            source=f"the api_url of account {entry.name!r}" if entry.api_url else "api_url",
        )
    except ApiUrlError as exc:
        if exc.source == "api_url":
            raise OptionError("api_url", exc.problem) from None
        raise
