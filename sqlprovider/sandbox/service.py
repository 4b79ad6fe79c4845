"""The request pipeline of the sandbox: latency, rate limits, faults, auth, then the API.

`Service.respond` turns one raw request into an `Outcome` (status, headers, encoded body and the
body fault, if any, that the HTTP layer must carry out). It also keeps the log of received
requests that tests read. It knows nothing about sockets. Several accounts are a layer above one
estate: each token has its own `Api` over its own `Account` (and its own rate-limit budget, as
the limiter counts per token), may have its own faults, and answers GET /v2/account with its
own profile. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from .api import Api, Reply, error
from .data import Account
from .faults import APPLY_KINDS, BODY_KINDS, HOSTILE_KINDS, STATUS_KINDS, FaultInjector, Faults
from .lifecycle import ActionBook
from .ratelimit import RateLimiter

_INJECTED: dict[int, tuple[str, str]] = {
    401: ("unauthorized", "Unable to authenticate you."),
    429: ("too_many_requests", "API rate limit exceeded."),
    500: ("server_error", "Unexpected server-side error"),
    502: ("bad_gateway", "Bad gateway."),
    503: ("service_unavailable", "The service is temporarily unavailable."),
    504: ("gateway_timeout", "The upstream server did not answer in time."),
}


@dataclass(frozen=True)
class RequestRecord:
    """One received request, as tests see it (never its headers or token)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    fault: str | None = None
    account: str | None = None
    routed: bool = True  # False: the sandbox has no route for this path (it answered 404)


@dataclass(frozen=True)
class Outcome:
    """What to send: status, headers, body, and a body fault (`reset`, `truncate`, `slow`)."""

    status: int
    headers: dict[str, str]
    body: bytes
    fault: str | None = None
    slow_seconds: float = 0.0


class Service:
    """Answers raw requests for one account and one token (thread-safe)."""

    def __init__(
        self,
        account: Account,
        token: str,
        limiter: RateLimiter,
        faults: Faults | None = None,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        seed: int = 0,
        action_seconds: float = 0.0,
    ) -> None:
        """Wire the pipeline; `seed` drives the latency jitter; actions finish after
        `action_seconds`."""
        if latency_ms < 0 or jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        self.api = Api(account, ActionBook(action_seconds))
        self._action_seconds = action_seconds
        self.token = token
        self._apis: dict[str, tuple[str, Api]] = {token: ("default", self.api)}
        self._profiles: dict[str, dict[str, object]] = {}
        self._account_injectors: dict[str, FaultInjector] = {}
        self.limiter = limiter
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self._jitter_rng = random.Random(f"jitter:{seed}")
        self._request_rng = random.Random(f"request-id:{seed}")
        self._lock = threading.Lock()
        self._injector = FaultInjector(faults or Faults())
        self._log: list[RequestRecord] = []
        self._unrouted: list[RequestRecord] = []

    @property
    def faults(self) -> Faults:
        """The fault settings in force."""
        return self._injector.faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        # A new injector restarts request numbering, so a schedule counts from its installation.
        self._injector = FaultInjector(faults or Faults())

    def add_account(self, name: str, token: str, account: Account) -> None:
        """Serve `account` to requests bearing `token`, as the account called `name`."""
        with self._lock:
            if token in self._apis and self._apis[token][1].account is not account:
                raise ValueError("each sandbox account needs its own token")
            api = (
                self.api if token == self.token else Api(account, ActionBook(self._action_seconds))
            )
            self._apis[token] = (name, api)
            rng = random.Random(f"profile:{name}:{account.seed}")
            self._profiles[token] = {
                "droplet_limit": 25,
                "floating_ip_limit": 5,
                "email": f"{name}@example.com",
                "name": name,
                "uuid": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                "email_verified": True,
                "status": "active",
                "status_message": "",
                "team": {
                    "uuid": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                    "name": f"{name} team",
                },
            }

    def set_account_faults(self, token: str, faults: Faults | None) -> None:
        """Faults for one account's requests only (None: that account follows the shared ones)."""
        with self._lock:
            if faults is None:
                self._account_injectors.pop(token, None)
            else:
                self._account_injectors[token] = FaultInjector(faults)

    def requests(self) -> list[RequestRecord]:
        """Return a snapshot of the requests received so far."""
        with self._lock:
            return list(self._log)

    def unrouted(self) -> list[RequestRecord]:
        """Requests for paths the sandbox has no route for (kept even by `clear_requests`).

        A client asking for one is asking for an endpoint the sandbox does not model, so its
        404 says nothing about the API: the test suite fails on any.
        """
        with self._lock:
            return list(self._unrouted)

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._log.clear()

    def respond(
        self, method: str, target: str, authorization: str | None, body: bytes, base_url: str
    ) -> Outcome:
        """Answer one request.

        Args:
            method: HTTP method.
            target: Request target, path plus query string.
            authorization: The `Authorization` header, if any.
            body: Request body.
            base_url: `http://host:port` from the Host header.
        """
        parts = urlsplit(target)
        path = parts.path
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(name, value)
        token = _bearer(authorization)
        injector = self._account_injectors.get(token, self._injector)
        fault = injector.decide(path)
        self._sleep()
        served = self._apis.get(token)
        verdict = self.limiter.check(token)
        extra = verdict.headers()
        if not verdict.allowed:
            reply = error(429, *_INJECTED[429])
        elif fault in STATUS_KINDS:
            status = STATUS_KINDS[fault]
            reply = error(status, *_INJECTED[status])
            if fault == "429":
                extra["retry-after"] = str(injector.faults.retry_after)
        elif fault == "redirect":
            # To a host that is not the API: a client that follows it sends the token there.
            reply = Reply(302, None, {"Location": f"http://198.51.100.7{path}"})
        elif method == "OPTIONS":
            # A CORS preflight carries no token; it learns the allowed methods.
            reply = self._route(self.api, method, path, query, body, base_url)
        elif served is None:
            reply = error(401, *_INJECTED[401])
        elif method == "GET" and path == "/v2/account" and token in self._profiles:
            reply = Reply(200, {"account": self._profiles[token]})
        else:
            if fault == "mutate":
                served[1].account.mutate()
            reply = self._route(served[1], method, path, query, body, base_url, fault == "errored")
            lost = APPLY_KINDS.get(fault or "")
            if isinstance(lost, int):  # carried out, but the answer says it failed
                reply = error(lost, *_INJECTED[lost])
        if reply.status >= 400 and isinstance(reply.body, dict):
            reply.body["request_id"] = self._request_id()
        payload = (
            b"" if reply.body is None else json.dumps(reply.body, separators=(",", ":")).encode()
        )
        out_headers = {"Content-Type": "application/json", **extra}
        out_headers.update(reply.headers)
        with self._lock:
            owner = served[0] if served is not None else None
            record = RequestRecord(method, path, query, reply.status, fault, owner, reply.routed)
            self._log.append(record)
            if not reply.routed:
                self._unrouted.append(record)
        body_fault = fault if fault in BODY_KINDS or fault in HOSTILE_KINDS else None
        if fault == "redirect":
            body_fault = None
        if APPLY_KINDS.get(fault or "") == "reset":
            body_fault = "reset"
        return Outcome(reply.status, out_headers, payload, body_fault, injector.faults.slow_seconds)

    def _route(
        self,
        api: Api,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes,
        base_url: str,
        errored: bool = False,
    ) -> Reply:
        try:
            return api.handle(method, path, query, body, base_url, errored=errored)
        except Exception:  # a sandbox bug must still answer like the API would
            return error(500, *_INJECTED[500])

    def _request_id(self) -> str:
        # Seeded, so the same seed and request sequence give byte-identical error bodies too.
        with self._lock:
            return str(uuid.UUID(int=self._request_rng.getrandbits(128), version=4))

    def _sleep(self) -> None:
        if not self.latency_ms and not self.jitter_ms:
            return
        with self._lock:
            jitter = self._jitter_rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0.0
        time.sleep((self.latency_ms + jitter) / 1000)


def _bearer(header: str | None) -> str:
    """Return the token of an `Authorization: Bearer <token>` header, or ''."""
    if not header:
        return ""
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""
