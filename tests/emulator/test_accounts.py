"""The sandbox serves several accounts: own estates, own budgets, own faults, GET /v2/account."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys

import pytest
import requests

from sqlprovider.sandbox import Faults, Sandbox
from sqlprovider.sandbox.cli import add_serve_arguments, build_sandbox


def get(sb: Sandbox, token: str, path: str) -> requests.Response:
    return requests.get(sb.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_one_account_is_served_as_before() -> None:
    sb = Sandbox(seed=3, droplets=5)
    assert [a.name for a in sb.accounts] == ["sandbox1"]
    assert sb.accounts[0].token == sb.token
    assert sb.accounts[0].account is sb.account


def test_each_token_sees_its_own_estate_with_half_of_the_first_accounts_ids() -> None:
    with Sandbox(seed=3, droplets=10, accounts=3) as sb:
        first, second, third = sb.accounts
        assert len({first.token, second.token, third.token}) == 3
        assert sb.token == first.token
        ids = {}
        policies = {}
        for entry in sb.accounts:
            body = get(sb, entry.token, "/v2/droplets/backups/policies?per_page=200").json()
            assert body["meta"]["total"] == 10
            policies[entry.name] = body["policies"]
            ids[entry.name] = sorted(int(key) for key in body["policies"])
            assert ids[entry.name] == entry.account.droplet_ids()
        assert ids["sandbox1"][:5] == ids["sandbox2"][:5] == ids["sandbox3"][:5]
        assert set(ids["sandbox1"][5:]).isdisjoint(ids["sandbox2"][5:])
        shared = [str(i) for i in ids["sandbox1"][:5]]
        assert any(
            policies["sandbox1"][key] != policies["sandbox2"][key] for key in shared
        )  # the same ids, different Droplets
        assert get(sb, "sandbox-unknown", "/v2/droplets").status_code == 401


def test_get_account_answers_each_tokens_own_profile() -> None:
    with Sandbox(seed=3, droplets=2, accounts=2) as sb:
        one, two = (get(sb, a.token, "/v2/account").json()["account"] for a in sb.accounts)
    assert one["team"]["name"] == "sandbox1 team"
    assert two["team"]["name"] == "sandbox2 team"
    assert one["uuid"] != two["uuid"]
    assert {"droplet_limit", "email", "uuid", "email_verified", "status"} <= set(one)


def test_each_account_has_its_own_rate_limit_budget() -> None:
    with Sandbox(seed=3, droplets=2, accounts=2, per_minute=3, minute_seconds=60) as sb:
        first, second = sb.accounts
        statuses = [get(sb, first.token, "/v2/droplets").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert get(sb, second.token, "/v2/droplets").status_code == 200


def test_a_fault_can_target_one_account() -> None:
    with Sandbox(seed=3, droplets=2, accounts=2) as sb:
        first, second = sb.accounts
        sb.set_faults(Faults(rate=1.0, kinds=("500",)), account="sandbox2")
        assert get(sb, first.token, "/v2/droplets").status_code == 200
        assert get(sb, second.token, "/v2/droplets").status_code == 500
        sb.set_faults(None, account="sandbox2")
        assert get(sb, second.token, "/v2/droplets").status_code == 200
        owners = [r.account for r in sb.requests]
    assert owners == ["sandbox1", "sandbox2", "sandbox2"]


def test_serve_accounts_flag_builds_them() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    sb = build_sandbox(parser.parse_args(["--accounts", "3", "--droplets", "4"]))
    assert [a.name for a in sb.accounts] == ["sandbox1", "sandbox2", "sandbox3"]


def test_serve_prints_the_accounts_with_the_first_token_as_before() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sqlprovider.sandbox", "--droplets", "3", "--accounts", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        names = [a["name"] for a in line["accounts"]]
        assert names == ["sandbox1", "sandbox2", "sandbox3"]
        assert line["token"] == line["accounts"][0]["token"]
        for account in line["accounts"]:
            answer = requests.get(
                line["url"] + "/v2/droplets/backups/policies",
                headers={"Authorization": f"Bearer {account['token']}"},
                timeout=10,
            )
            assert answer.status_code == 200
            assert answer.json()["meta"]["total"] == 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_fault_account_targets_one_account() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    flags = ["--accounts", "2", "--fault-rate", "1", "--fault-kinds", "503"]
    with build_sandbox(parser.parse_args([*flags, "--fault-account", "sandbox2"])) as sb:
        first, second = sb.accounts
        assert get(sb, first.token, "/v2/droplets").status_code == 200
        assert get(sb, second.token, "/v2/droplets").status_code == 503
    with pytest.raises(ValueError, match="sandbox1, sandbox2"):
        build_sandbox(parser.parse_args([*flags, "--fault-account", "nope"]))
