"""Shared fixtures: a running sandbox and connections to it.

Fixtures return objects and never set module globals. Tests that change data, faults or limits
start a sandbox of their own (`make_sandbox`), so the shared one stays as seeded.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import sqlprovider
from sqlprovider.sandbox import Sandbox

# Parsed-spec cache of the test run, away from the user's own (tests write many specs).
os.environ.setdefault("SQLPROVIDER_CACHE_DIR", tempfile.mkdtemp(prefix="sqlprovider-cache-"))

#: Limits high enough that a whole test module never trips the sandbox's burst limit.
UNLIMITED = {"per_minute": 1_000_000, "per_hour": 10_000_000}
#: Client options for tests: fast retries, and a client-side pacer as generous as the sandbox
#: (the default one mirrors DigitalOcean's 250 per minute and is shared by the whole process).
FAST = {"backoff": 0.01, "timeout": 5.0, "rate_limits": ((1_000_000, 60.0),)}


#: Fixtures that hand a test a running sandbox (or a factory of them).
_SANDBOX_FIXTURES = ("sandbox", "fresh", "make_sandbox")


@pytest.fixture(autouse=True)
def _no_unrouted_requests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that asked a sandbox for an endpoint it does not serve.

    Without this, a table whose endpoint the sandbox lacks would pass every test with zero
    rows (its 404 read as "nothing"). Tests that probe unknown paths on purpose carry
    `@pytest.mark.unrouted_ok`.
    """
    boxes: list[Any] = []
    for name in _SANDBOX_FIXTURES:
        if name in request.fixturenames:
            boxes.append(request.getfixturevalue(name))
    before = [_unrouted(box) for box in boxes]
    yield
    if request.node.get_closest_marker("unrouted_ok") is not None:
        return
    for box, seen in zip(boxes, before, strict=True):
        new = _unrouted(box)[len(seen) :]
        assert not new, "the sandbox has no route for: " + ", ".join(
            f"{r.method} {r.path}" for r in new
        )


def _unrouted(box: Any) -> list[Any]:
    """Unrouted requests of a sandbox, or of every sandbox a factory started."""
    if isinstance(box, Sandbox):
        return box.unrouted()
    return [r for sb in getattr(box, "started", []) for r in sb.unrouted()]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """One seeded sandbox for read-only tests (seed 11, 40 droplets, 8 clusters)."""
    with Sandbox(seed=11, droplets=40, clusters=8, **UNLIMITED) as sb:
        yield sb


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes of a test's own (stopped at the end of the test)."""
    started: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        options = {"seed": 5, "droplets": 20, "clusters": 6, **UNLIMITED, **kwargs}
        sb = Sandbox(**options).start()
        started.append(sb)
        return sb

    make.started = started  # type: ignore[attr-defined]  # read by _no_unrouted_requests
    yield make
    for sb in started:
        sb.stop()


def connect_to(sb: Sandbox, **kwargs: Any) -> sqlprovider.Connection:
    """A DB-API connection to `sb` with fast retries (tests must not sleep for long)."""
    options = {**FAST, **kwargs}
    return sqlprovider.connect(token=sb.token, api_url=sb.url, **options)


@pytest.fixture
def con(sandbox: Sandbox) -> Iterator[sqlprovider.Connection]:
    """A connection to the shared sandbox."""
    connection = connect_to(sandbox)
    yield connection
    connection.close()
