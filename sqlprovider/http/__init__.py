"""HTTP access to the API: credentials, pacing, retries, caching and status mapping.

Imports `spec` and `errors` only; nothing here knows about SQLite. The named accounts (the
config file, each token's source) live here too: they are where credentials come from.
"""

from __future__ import annotations

from sqlprovider.http.accounts import (
    DEFAULT_ACCOUNT,
    Account,
    AccountConfig,
    Config,
    load_config,
)
from sqlprovider.http.auth import Token, normalize_api_url, resolve_api_url, resolve_token
from sqlprovider.http.cache import ResponseCache, shared_cache
from sqlprovider.http.client import ApiClient, NotFoundError
from sqlprovider.http.ratelimit import RateLimiter, limiter_for
from sqlprovider.http.retry import RetryPolicy
from sqlprovider.http.stats import RequestStats

__all__ = [
    "DEFAULT_ACCOUNT",
    "Account",
    "AccountConfig",
    "Config",
    "load_config",
    "ApiClient",
    "NotFoundError",
    "RateLimiter",
    "RequestStats",
    "ResponseCache",
    "RetryPolicy",
    "Token",
    "limiter_for",
    "normalize_api_url",
    "resolve_api_url",
    "resolve_token",
    "shared_cache",
]
