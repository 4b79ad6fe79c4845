"""What one try of a request answered: the parsed body, a failure worth retrying, or a typed error.

`ApiClient` sends; this module judges. A 2xx becomes the parsed JSON (an empty body only where
the request allows it), a 3xx is refused without following it (the token would go along), a
status worth retrying becomes a `Failure` for the client's back-off, and every other error status
becomes its exception class through `error_for`, the one place that maps HTTP statuses to the
`errors` tree with a message saying what to do. Nothing here sends or sees a header. Imports
`http.*` and `errors` only.
"""

from __future__ import annotations

import mmap
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlprovider.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServiceError,
)
from sqlprovider.http.cache import Loaded
from sqlprovider.http.messages import Reply
from sqlprovider.http.payload import Body, is_blank, parse
from sqlprovider.http.retry import RETRY_STATUSES
from sqlprovider.http.waits import WaitTooLongError
from sqlprovider.spec.record import Record

Query = tuple[tuple[str, str], ...]


class Failure(Record):
    """Why one try failed, kept to build the final error once retries run out."""

    status: int | None
    detail: str
    body: Mapping[str, Any]
    retry_after: float | None = None
    #: Nothing accepted the connection: retried only briefly (see `neterrors`).
    refused: bool = False


class Request(Record):
    """One request as the client sends it (every try of it is the same).

    Attributes:
        body: the JSON body already encoded, or None.
        retry_statuses: statuses worth another try; every other error status is final.
        retry_transport: whether a dropped connection or timeout is retried (not for a write,
            which may have been carried out).
        empty_ok: an empty 2xx body is an answer (None), as a write's 204 is.
        parse_large: parse a large 2xx body here; False leaves it to the caller (`payload`).
    """

    method: str
    path: str
    url: str
    query: Query
    body: bytes | None = None
    retry_statuses: frozenset[int] = RETRY_STATUSES
    retry_transport: bool = True
    empty_ok: bool = False
    parse_large: bool = True

    @property
    def where(self) -> str:
        """``GET /v2/droplets``: the request as errors name it."""
        return f"{self.method} {self.path}"


def judge(
    request: Request, reply: Reply, attempt: int, scopes: Mapping[str, Sequence[str]]
) -> Loaded | Failure:
    """The parsed answer of a successful try, a `Failure` worth retrying, or a final error."""
    status, body = reply.status, reply.body
    if 300 <= status < 400:
        raise _redirected(request, status, reply.headers.get("location"))
    if status < 300:
        if request.empty_ok and is_blank(body):
            return Loaded(body, None)
        if isinstance(body, mmap.mmap) and not request.parse_large:
            return Loaded(body, None)
        try:
            return Loaded(body, parse(body))
        except (ValueError, RecursionError) as exc:
            detail = _short(exc) if isinstance(exc, ValueError) else "nested too deeply"
            return Failure(status, f"a body that is not valid JSON ({detail})", {})
    error_body = _error_body(body)
    if status not in request.retry_statuses:
        raise error_for(
            status, request.method, request.url, error_body, attempts=attempt, scopes=scopes
        )
    retry_after = _seconds(reply.headers.get("retry-after")) if status == 429 else None
    said = f"{status} {error_body.get('message', '')}".strip()
    return Failure(status, said, error_body, retry_after)


def error_for(
    status: int,
    method: str,
    url: str,
    body: Mapping[str, Any],
    *,
    attempts: int = 1,
    scopes: Mapping[str, Sequence[str]] | None = None,
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
            f"or connect(token=...){_scope_hint(method, scopes or {})}",
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


def _scope_hint(method: str, scopes: Mapping[str, Sequence[str]]) -> str:
    """`; reading needs the a and b scopes.`, from the scopes the provider spec declares."""
    action = "read" if method in ("GET", "HEAD") else "write"
    needed = list(scopes.get(action, ()))
    if not needed:
        return "."
    names = " and ".join([", ".join(needed[:-1]), needed[-1]] if len(needed) > 1 else needed)
    plural = "scopes" if len(needed) > 1 else "scope"
    doing = "reading" if action == "read" else "writing"
    return f"; {doing} needs the {names} {plural}."


def final_error(failure: Failure, request: Request, attempts: int) -> ApiError:
    """The error a request ends with once its tries run out, from the last try's failure."""
    if failure.status is not None and failure.status >= 400:
        return error_for(
            failure.status, request.method, request.url, failure.body, attempts=attempts
        )
    if failure.status is not None:
        return ResponseError(
            f"{request.where} answered {failure.status} with {failure.detail} on each of "
            f"{attempts} attempts; the API's answer is at fault and no partial result was "
            "returned. Try again later.",
            status=failure.status,
            method=request.method,
            url=request.url,
        )
    return ServiceError(
        f"{request.where} got no complete answer after {attempts} "
        f"attempt{'s' if attempts != 1 else ''} ({failure.detail}); no partial result was "
        "returned. Check the network and the API URL (--api-url, api_url=), or try again later.",
        status=None,
        method=request.method,
        url=request.url,
    )


def _redirected(request: Request, status: int, location: str | None) -> ResponseError:
    """A 3xx: never followed (the token would go along), named by its target host only."""
    target = urlsplit(location or "")
    host = target.hostname or urlsplit(request.url).hostname or "?"
    scheme = f"{target.scheme}://" if target.scheme else ""
    return ResponseError(
        f"{request.where} answered {status}, a redirect to {scheme}{host}; the DigitalOcean API "
        "never redirects, so it was not followed (the token stays here) and no partial result "
        "was returned. Check api_url, or the proxy or load balancer in front of it.",
        status=status,
        method=request.method,
        url=request.url,
    )


def too_large(request: Request, exc: Any, cap: int) -> ResponseError:
    """An answer past max_response_bytes: refused whole, never truncated."""
    declared = f" (it declared {exc.declared:,} bytes)" if exc.declared else ""
    return ResponseError(
        f"{request.where} answered more than {cap:,} bytes once decoded{declared}; the answer is "
        "refused rather than truncated, and no partial result was returned. If such an answer "
        "is genuine, raise max_response_bytes (--max-response-bytes).",
        status=None,
        method=request.method,
        url=request.url,
    )


def too_long(request: Request, exc: WaitTooLongError) -> RateLimitError:
    """A wait for the rate limit past the statement's max_wait: stop now, saying until when."""
    when = time.strftime("%H:%M:%S UTC", time.gmtime(exc.reopens_at))
    left = f"{exc.remaining} requests remained" if exc.remaining is not None else "the API did"
    left += " in its budget" if exc.remaining is not None else " not say how many remained"
    return RateLimitError(
        f"{request.where} would have to wait until {when} ({exc.needed:.0f} s, for "
        f"{exc.why}; {left}), which is past this statement's max_wait of {exc.max_wait:g} s "
        f"({exc.left:.0f} s left); it stops now with no partial result. Run it again after "
        f"{when}, or raise max_wait (--max-wait).",
        status=429 if "API" in exc.why else None,
        method=request.method,
        url=request.url,
    )


def _error_body(body: Body) -> Mapping[str, Any]:
    try:
        parsed = parse(body)
    except (ValueError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _seconds(value: str | None) -> float | None:
    import math

    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _path_of(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."
