"""Fixtures for the sandbox server tests: a running sandbox, an authenticated session, schemas."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from sqlprovider.sandbox import Sandbox

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox shared by the tests of one module (seed 7, 45 droplets, 8 clusters).

    Its limits are raised so that the number of tests in a module never trips the burst limit.
    """
    with Sandbox(seed=7, droplets=45, clusters=8, per_minute=100_000, per_hour=10**6) as sb:
        yield sb


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    """A sandbox of its own for a test that changes data, faults or limits."""
    with Sandbox(seed=3, droplets=30, clusters=6) as sb:
        yield sb


def make_session(sb: Sandbox) -> requests.Session:
    """Return a keep-alive session that sends the sandbox's bearer token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.token}"
    return session


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Callable[..., requests.Response]]:
    """GET (or POST with json=) a path of the shared sandbox with its token."""
    session = make_session(sandbox)

    def call(path: str, method: str = "GET", **kwargs: Any) -> requests.Response:
        return session.request(method, sandbox.url + path, timeout=10, **kwargs)

    yield call
    session.close()


def _load_registry() -> tuple[Registry, dict[str, Any]]:
    schemas = {p.stem: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.json")}
    registry: Registry = Registry().with_resources(
        [(s["$id"], Resource.from_contents(s)) for s in schemas.values()]
    )
    return registry, schemas


@pytest.fixture(scope="session")
def validate() -> Callable[[str, Any], None]:
    """Validate a JSON document against `tests/schemas/<name>.json`, raising on any error."""
    registry, schemas = _load_registry()

    def check(name: str, document: Any) -> None:
        validator = Draft202012Validator(
            schemas[name], registry=registry, format_checker=FormatChecker()
        )
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        assert not errors, f"{name}: " + "; ".join(
            f"{list(e.path)}: {e.message}" for e in errors[:5]
        )

    return check
