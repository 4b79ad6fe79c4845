"""The same seed and sizes give the same bytes; another seed gives other data; 100k is cheap."""

from __future__ import annotations

import requests

from sqlprovider.sandbox import Sandbox
from sqlprovider.sandbox.data import Account

from .conftest import make_session

PATHS = [
    "/v2/droplets?per_page=200",
    "/v2/droplets?type=gpus",
    "/v2/droplets/backups/policies?per_page=200",
    "/v2/droplets/backups/supported_policies",
    "/v2/databases",
]


def _snapshot(seed: int) -> list[bytes]:
    with Sandbox(seed=seed, droplets=40, clusters=7) as sb:
        session = make_session(sb)
        bodies = [session.get(sb.url + p, timeout=10).content for p in PATHS]
        for droplet_id in sb.account.droplet_ids()[:15]:
            bodies.append(
                session.get(f"{sb.url}/v2/droplets/{droplet_id}/backups", timeout=10).content
            )
        for cluster in sb.account.clusters():
            bodies.append(
                session.get(f"{sb.url}/v2/databases/{cluster['id']}/backups", timeout=10).content
            )
        # Links embed the port, which differs between runs; compare everything else.
        return [b.replace(sb.url.encode(), b"URL") for b in bodies]


def test_same_seed_same_bytes() -> None:
    first, second = _snapshot(21), _snapshot(21)
    assert first == second


def test_different_seed_different_data() -> None:
    first, other = _snapshot(21), _snapshot(22)
    assert first[0] != other[0]
    assert first[2] != other[2]
    assert first[4] != other[4]


def test_hundred_thousand_droplets_build_and_serve() -> None:
    """A large account is built and served page by page (its speed is measured by
    benchmarks/sandbox_capacity.py, not asserted here: a shared CI machine is no stopwatch)."""
    account = Account(seed=9, droplets=100_000, clusters=6)
    assert len(account.droplet_ids()) == 100_000
    with Sandbox(seed=9, droplets=100_000) as sb:
        session = make_session(sb)
        for page in (1, 250, 500):
            url = f"{sb.url}/v2/droplets/backups/policies?per_page=200&page={page}"
            body = session.get(url, timeout=10).json()
            assert len(body["policies"]) == 200
            assert body["meta"]["total"] == 100_000
        assert isinstance(requests.get(sb.url, timeout=10).status_code, int)
