"""Measure how many requests per second the sandbox serves, against the ideal set by its latency.

Each scenario starts the sandbox in its own process (`python -m sqlprovider.sandbox`, so the
clients do not share its GIL), runs N client threads, each with a keep-alive `requests.Session`,
for a fixed time, and counts the answers. With latency L and N clients the ideal is N / L
requests per second; efficiency = measured / ideal. Prints a table and writes
`benchmarks/results/sandbox_capacity.json`. On Linux it also reports the server process's CPU
time per request, which shows how far the server is from being the bottleneck.

    python benchmarks/sandbox_capacity.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

RESULTS = Path(__file__).resolve().parent / "results" / "sandbox_capacity.json"


@dataclass
class Scenario:
    """One run: sandbox settings, client count and the path every client requests."""

    name: str
    clients: int
    latency_ms: float
    path: str
    droplets: int = 200


@dataclass
class Result:
    """What a scenario measured."""

    name: str
    clients: int
    latency_ms: float
    droplets: int
    path: str
    seconds: float
    requests: int
    errors: int
    rps: float
    ideal_rps: float | None
    efficiency: float | None
    server_cpu_ms_per_request: float | None


def _start(scenario: Scenario) -> tuple[subprocess.Popen[str], str, str]:
    cmd = [
        sys.executable, "-m", "sqlprovider.sandbox", "--port", "0",
        "--droplets", str(scenario.droplets), "--latency-ms", str(scenario.latency_ms),
        "--per-minute", "100000000", "--per-hour", "1000000000",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = json.loads(proc.stdout.readline())
    return proc, line["url"], line["token"]


def _cpu_seconds(pid: int) -> float | None:
    """Return user+system CPU seconds of a process (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(scenario: Scenario, seconds: float) -> Result:
    """Run one scenario for `seconds` and return its figures."""
    proc, url, token = _start(scenario)
    counts = [0] * scenario.clients
    errors = [0] * scenario.clients
    start = threading.Event()
    deadline = [0.0]

    def client(index: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        session.get(url + scenario.path, timeout=30)  # open the connection before timing
        start.wait()
        while time.monotonic() < deadline[0]:
            resp = session.get(url + scenario.path, timeout=30)
            if resp.status_code == 200:
                counts[index] += 1
            else:
                errors[index] += 1
        session.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(scenario.clients)]
    try:
        for t in threads:
            t.start()
        time.sleep(0.3)
        cpu_before = _cpu_seconds(proc.pid)
        began = time.monotonic()
        deadline[0] = began + seconds
        start.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        cpu_after = _cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    done = sum(counts)
    ideal = scenario.clients / (scenario.latency_ms / 1000) if scenario.latency_ms else None
    rps = done / elapsed
    cpu = None
    if cpu_before is not None and cpu_after is not None and done:
        cpu = round((cpu_after - cpu_before) / (done + sum(errors)) * 1000, 3)
    return Result(
        scenario.name, scenario.clients, scenario.latency_ms, scenario.droplets, scenario.path,
        round(elapsed, 2), done, sum(errors), round(rps, 1), ideal,
        None if ideal is None else round(rps / ideal, 3), cpu,
    )  # fmt: skip


SCENARIOS = [
    Scenario("target: 16 clients, 50 ms", 16, 50, "/v2/droplets/backups/policies"),
    Scenario("64 clients, 50 ms", 64, 50, "/v2/droplets/backups/policies"),
    Scenario("16 clients, 50 ms, 200 policies/page of 100k", 16, 50,
             "/v2/droplets/backups/policies?per_page=200&page=250", droplets=100_000),
    Scenario("16 clients, 50 ms, 20 full droplets/page", 16, 50, "/v2/droplets"),
    Scenario("16 clients, no latency (raw)", 16, 0, "/v2/droplets/backups/policies"),
]  # fmt: skip


def main() -> int:
    """Run every scenario, print the table, write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each scenario")
    args = parser.parse_args()
    results = [run(s, args.seconds) for s in SCENARIOS]
    head = f"{'scenario':<48} {'req':>6} {'err':>4} {'rps':>8} {'ideal':>6} {'eff':>6}"
    print(head + f" {'srv ms/req':>10}")
    for r in results:
        ideal = f"{r.ideal_rps:.0f}" if r.ideal_rps else "-"
        eff = f"{r.efficiency:.0%}" if r.efficiency is not None else "-"
        cpu = f"{r.server_cpu_ms_per_request:.2f}" if r.server_cpu_ms_per_request else "-"
        row = f"{r.name:<48} {r.requests:>6} {r.errors:>4} {r.rps:>8.1f} {ideal:>6} {eff:>6}"
        print(f"{row} {cpu:>10}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "seconds_per_scenario": args.seconds,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip
    RESULTS.write_text(json.dumps({"meta": meta, "results": [asdict(r) for r in results]},
                                  indent=2) + "\n")  # fmt: skip
    target = results[0]
    ok = target.efficiency is not None and target.efficiency >= 0.9
    print(f"target efficiency {target.efficiency:.0%} (need >= 90%): {'OK' if ok else 'TOO LOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
