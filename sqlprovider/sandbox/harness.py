"""`Sandbox`: the public handle that builds an account and serves it on a background thread.

It ties together the seeded `Account`, the `RateLimiter`, the `Faults` and the HTTP server, and
gives tests what they need: `url`, `token`, `account`, the received `requests`, and a way to swap
faults while serving. With `accounts=N` it serves N accounts at once, each with its own token,
seed, estate and rate-limit budget (`accounts` lists them; `token` and `account` stay the
first's); half of each later account's Droplet ids are the first account's, so joins that mix
accounts up are caught. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from types import TracebackType

from .data import Account
from .faults import Faults
from .lifecycle import ActionBook
from .ratelimit import RateLimiter
from .server import SandboxHTTPServer
from .service import RequestRecord, Service


@dataclass(frozen=True)
class SandboxAccount:
    """One account the sandbox serves: its name, token, seed and data."""

    name: str
    token: str
    seed: int
    account: Account

    def __repr__(self) -> str:
        return f"SandboxAccount({self.name!r}, seed={self.seed})"


class Sandbox:
    """A local emulator of the DigitalOcean API v2 backups endpoints.

    Example:
        with Sandbox(seed=1, droplets=50) as sb:
            requests.get(f"{sb.url}/v2/droplets", headers={"Authorization": f"Bearer {sb.token}"})
    """

    def __init__(
        self,
        seed: int = 1,
        droplets: int = 20,
        clusters: int = 6,
        token: str | None = None,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        per_minute: int = 250,
        per_hour: int = 5000,
        minute_seconds: float = 60.0,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        now: int | None = None,
        action_seconds: float = 0.0,
        accounts: int = 1,
    ) -> None:
        """Build the account (the server starts with `start()` or `with`).

        Args:
            seed: Seed of the account data (same seed and sizes, same data).
            droplets: Number of droplets (about 10% GPU).
            clusters: Number of database clusters.
            token: Bearer token to accept; default `sandbox-` and 32 random hex digits.
            latency_ms: Fixed delay added to every request.
            jitter_ms: Extra random delay, uniform in 0..jitter_ms (seeded).
            per_minute: Burst limit per token per "minute".
            per_hour: Limit per token per "hour" (60 minutes).
            minute_seconds: Length of a "minute" in seconds (shrink it in tests).
            faults: Fault injection settings; none by default.
            host: Interface to bind.
            port: Port to bind; 0 picks a free one.
            now: The account's clock in epoch seconds (default: a fixed instant).
            action_seconds: Seconds a Droplet action stays in-progress before it completes
                (and changes the account); 0 applies it at once.
            accounts: How many accounts to serve (names sandbox1, sandbox2, ...; account k
                has seed `seed + 1000 * (k - 1)` and a random token).
        """
        if accounts < 1:
            raise ValueError("accounts must be >= 1")
        self.account = Account(seed=seed, droplets=droplets, clusters=clusters, now=now)
        self.token = token or f"sandbox-{secrets.token_hex(16)}"
        self.seed = seed
        self._address = (host, port)
        self._service = Service(
            self.account,
            self.token,
            RateLimiter(per_minute, per_hour, minute_seconds),
            faults,
            latency_ms,
            jitter_ms,
            seed,
            action_seconds,
        )
        first = SandboxAccount("sandbox1", self.token, seed, self.account)
        self.accounts: list[SandboxAccount] = [first]
        shared = tuple(self.account.droplet_ids()[: (droplets + 1) // 2])
        for number in range(2, accounts + 1):
            other_seed = seed + 1000 * (number - 1)
            data = Account(other_seed, droplets, clusters, now, reuse_ids=shared)
            other = f"sandbox-{secrets.token_hex(16)}"
            self.accounts.append(SandboxAccount(f"sandbox{number}", other, other_seed, data))
        for entry in self.accounts:
            self._service.add_account(entry.name, entry.token, entry.account)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. `http://127.0.0.1:54321`."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() or use it in a with block")
        return f"http://{self._address[0]}:{self._server.server_port}"

    @property
    def faults(self) -> Faults:
        """The fault settings in force; assign a new `Faults` (or None) to change them."""
        return self._service.faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._service.faults = faults

    def set_faults(self, faults: Faults | None, account: str) -> None:
        """Faults for one account's requests only (None: it follows `faults` again)."""
        self._service.set_account_faults(self.account_named(account).token, faults)

    def account_named(self, name: str) -> SandboxAccount:
        """The served account called `name`.

        Raises:
            KeyError: no such account.
        """
        for entry in self.accounts:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def config(self) -> dict[str, dict[str, dict[str, str]]]:
        """The accounts as a sqlprovider config mapping (`connect(config=..., accounts="*")`)."""
        return {
            "accounts": {
                entry.name: {"token": entry.token, "api_url": self.url} for entry in self.accounts
            }
        }

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the requests received so far (method, path, query, status, fault)."""
        return self._service.requests()

    @property
    def actions(self) -> ActionBook:
        """The actions POSTs started (count them to prove no duplicate was made)."""
        return self._service.api.book

    def unrouted(self) -> list[RequestRecord]:
        """Requests for paths the sandbox does not serve (the test suite fails on any)."""
        return self._service.unrouted()

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        self._service.clear_requests()

    def start(self) -> Sandbox:
        """Bind the socket and serve on a daemon thread; return self."""
        if self._server is None:
            self._server = SandboxHTTPServer(self._address, self._service)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="sqlprovider-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        """Start serving."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.stop()

    def __repr__(self) -> str:
        """Describe the sandbox without its token."""
        where = self.url if self._server is not None else "stopped"
        droplets = len(self.account.droplet_ids())
        several = f", accounts={len(self.accounts)}" if len(self.accounts) > 1 else ""
        return f"Sandbox({where}, seed={self.seed}, droplets={droplets}{several})"
