"""The CLI prints one JSON line and serves; the server takes 64 concurrent connections."""

from __future__ import annotations

import argparse
import ast
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

import sqlprovider.sandbox
from sqlprovider.sandbox import Sandbox
from sqlprovider.sandbox.cli import add_serve_arguments, build_sandbox

from .conftest import make_session


def test_cli_prints_url_and_token_then_serves_until_terminated() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sqlprovider.sandbox",
            "--port",
            "0",
            "--droplets",
            "5",
            "--fault-schedule",
            "2:503",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        assert line["url"].startswith("http://127.0.0.1:")
        assert line["token"].startswith("sandbox-")
        headers = {"Authorization": f"Bearer {line['token']}"}
        first = requests.get(
            line["url"] + "/v2/droplets/backups/policies", headers=headers, timeout=10
        )
        assert first.status_code == 200
        assert first.json()["meta"]["total"] == 5
        second = requests.get(line["url"] + "/v2/droplets", headers=headers, timeout=10)
        assert second.status_code == 503
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_flags_map_to_the_sandbox() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args(
        [
            "--seed",
            "4",
            "--droplets",
            "7",
            "--token",
            "t0k",
            "--fault-rate",
            "0.2",
            "--fault-kinds",
            "500,reset",
            "--fault-schedule",
            "3:502,7:reset",
            "--per-minute",
            "9",
            "--minute-seconds",
            "0.5",
            "--fault-path",
            "policies",
        ]
    )
    sb = build_sandbox(args)
    assert sb.token == "t0k"
    assert len(sb.account.droplet_ids()) == 7
    assert sb.faults.kinds == ("500", "reset")
    assert dict(sb.faults.schedule) == {3: "502", 7: "reset"}
    assert sb.faults.path_pattern == "policies"


def test_cli_rejects_unknown_fault_kind() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlprovider.sandbox",
            "--fault-kinds",
            "teapot",
            "--fault-rate",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "unknown fault kind" in proc.stderr


def test_sixty_four_concurrent_connections_are_served() -> None:
    with Sandbox(droplets=30, latency_ms=200, per_minute=10_000) as sb:
        barrier = threading.Barrier(64)
        statuses: list[int] = []
        lock = threading.Lock()

        def client() -> None:
            session = make_session(sb)
            barrier.wait()
            status = session.get(sb.url + "/v2/droplets", timeout=20).status_code
            with lock:
                statuses.append(status)
            session.close()

        threads = [threading.Thread(target=client) for _ in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 64


def test_now_flag_sets_the_account_clock() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    real = build_sandbox(parser.parse_args(["--now", "real", "--droplets", "1"]))
    assert abs(real.account.now - time.time()) < 60
    fixed = build_sandbox(parser.parse_args(["--now", "1700000000", "--droplets", "1"]))
    assert fixed.account.now == 1_700_000_000


def test_sandbox_imports_only_the_standard_library() -> None:
    # The sandbox must stay an independent model of the API (STYLE.md section 1).
    package = Path(sqlprovider.sandbox.__file__).parent
    allowed = set(sys.stdlib_module_names) | {"sqlprovider"}
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{module.name} imports {name}"
                if name.startswith("sqlprovider"):
                    assert name == "sqlprovider.errors", f"{module.name} imports {name}"
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
        }
        literals = [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
        ]
        assert not [s for s in literals if "provider_spec" in s], module.name
