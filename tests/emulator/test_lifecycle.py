"""Droplet actions have a lifecycle: in-progress, then completed (applied) or errored; the
write faults carry the action out and then lose its answer."""

from __future__ import annotations

import time

import pytest
import requests

from sqlprovider.sandbox import Faults, Sandbox

from ..conftest import UNLIMITED
from .conftest import make_session


def _off(sb: Sandbox) -> int:
    return next(i for i in sb.account.droplet_ids() if sb.account.droplet(i).policy is None)  # type: ignore[union-attr]


def test_an_action_completes_after_its_delay_and_only_then_changes_the_account() -> None:
    with Sandbox(seed=3, droplets=10, action_seconds=0.4, **UNLIMITED) as sb:
        http, target = make_session(sb), _off(sb)
        created = http.post(
            f"{sb.url}/v2/droplets/{target}/actions", json={"type": "enable_backups"}, timeout=5
        ).json()["action"]
        assert created["status"] == "in-progress"
        url = f"{sb.url}/v2/actions/{created['id']}"
        assert http.get(url, timeout=5).json()["action"]["status"] == "in-progress"
        assert sb.account.droplet(target).policy is None  # type: ignore[union-attr]
        time.sleep(0.5)
        done = http.get(url, timeout=5).json()["action"]
        assert done["status"] == "completed"
        assert done["completed_at"] is not None
        assert sb.account.droplet(target).policy is not None  # type: ignore[union-attr]
        listed = http.get(f"{sb.url}/v2/droplets/{target}/actions", timeout=5).json()
        # The Droplet's seeded history comes first; the new action is the newest.
        assert [a["id"] for a in listed["actions"]][-1] == created["id"]
        assert listed["actions"][-1]["status"] == "completed"
        assert listed["meta"]["total"] == len(listed["actions"])


def test_an_errored_action_leaves_the_account_unchanged(fresh: Sandbox) -> None:
    http, target = make_session(fresh), _off(fresh)
    fresh.faults = Faults(schedule={1: "errored"})
    created = http.post(
        f"{fresh.url}/v2/droplets/{target}/actions", json={"type": "enable_backups"}, timeout=5
    ).json()["action"]
    action = http.get(f"{fresh.url}/v2/actions/{created['id']}", timeout=5).json()["action"]
    assert action["status"] == "errored"
    assert fresh.account.droplet(target).policy is None  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["apply-500", "apply-reset"])
def test_apply_faults_carry_the_action_out_and_lose_the_answer(fresh: Sandbox, kind: str) -> None:
    http, target = make_session(fresh), _off(fresh)
    fresh.faults = Faults(schedule={1: kind})
    try:
        answer = http.post(
            f"{fresh.url}/v2/droplets/{target}/actions", json={"type": "enable_backups"}, timeout=5
        )
        assert answer.status_code == 500
    except requests.RequestException:
        assert kind == "apply-reset"
    assert fresh.actions.count(target, "enable_backups") == 1
    assert fresh.account.droplet(target).policy is not None  # type: ignore[union-attr]
