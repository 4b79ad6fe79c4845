"""Figure (f): backups of every Droplet in 5 accounts of 200 Droplets, against one account.

DigitalOcean limits each token on its own (250 requests per minute), so five accounts can be
read in about the time of one: their calls run side by side, each within its own budget, under
the process-wide cap on requests in flight. Both runs use the real limits (the sandbox's 250
per minute per token, and the client's default pacing), with 50 ms latency per request, each
on fresh tokens so no run inherits a spent budget. Targets: time within 1.3x of one account's,
and requests exactly 5x.

The sandbox runs in a process of its own (`python -m sqlprovider.sandbox serve`), as the API
is another machine: in the same process its CPU would compete with the client's for the GIL.
Five accounts make five times the requests, so past the latency bound their time is bounded by
the client's CPU per request; the third figure measures that floor (the same 1,000 backups
GETs through bare `requests` sessions on as many threads as the in-flight cap) and compares.

Run alone, `python benchmarks/accounts.py` prints the figures and rewrites the "Several
accounts" section of docs/performance.md; `benchmarks/run.py` includes them as figure (f).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import LATENCY_MS, Figure, write_section

import sqlprovider
from sqlprovider.http.inflight import MAX_IN_FLIGHT

ACCOUNTS = 5
DROPLETS = 200
D = "digitalocean.compute"
JOIN_SQL = (
    f"SELECT d.account, d.id, b.id, b.created_at FROM {D}.droplets d "
    f"JOIN {D}.droplet_backups b ON b.droplet_id = d.id"
)
ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- accounts figure: begin -->", "<!-- accounts figure: end -->"


@contextlib.contextmanager
def _served(accounts: int, seed: int) -> Iterator[dict[str, Any]]:
    """A sandbox in its own process; yields its JSON line (url, token, accounts)."""
    argv = [sys.executable, "-m", "sqlprovider.sandbox", "--droplets", str(DROPLETS)]
    argv += ["--clusters", "1", "--latency-ms", str(LATENCY_MS), "--seed", str(seed)]
    argv += ["--accounts", str(accounts)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line: dict[str, Any] = json.loads(process.stdout.readline())
        line.setdefault("accounts", [{"name": "sandbox1", "token": line["token"]}])
        yield line
    finally:
        process.terminate()
        process.wait(timeout=10)


def _one_run(accounts: int, seed: int) -> tuple[float, int, int]:
    """(seconds, rows, requests) of the statement on fresh tokens."""
    with _served(accounts, seed) as line:
        if accounts == 1:
            connection = sqlprovider.connect(token=line["token"], api_url=line["url"])
        else:
            config = {
                "accounts": {
                    a["name"]: {"token": a["token"], "api_url": line["url"]}
                    for a in line["accounts"]
                }
            }
            connection = sqlprovider.connect(config=config, accounts="*")
        with connection:
            cursor = connection.cursor()
            started = time.perf_counter()
            rows = len(cursor.execute(JOIN_SQL).fetchall())
            seconds = time.perf_counter() - started
            return seconds, rows, int(cursor.stats["requests"])


def _floor(seed: int) -> float:
    """Seconds for the same backups GETs of every account through bare `requests`."""
    import requests
    from requests.adapters import HTTPAdapter

    with _served(ACCOUNTS, seed) as line:
        sessions = []
        for account in line["accounts"]:
            session = requests.Session()
            session.mount("http://", HTTPAdapter(pool_maxsize=16))
            session.headers["Authorization"] = f"Bearer {account['token']}"
            sessions.append(session)
        url = line["url"] + "/v2/droplets/backups/policies"
        jobs = []
        for session in sessions:
            body = session.get(url, params={"per_page": 200}, timeout=30).json()
            jobs += [(session, int(key)) for key in body["policies"]]

        def get(job: tuple[Any, int]) -> int:
            session, droplet_id = job
            path = f"{line['url']}/v2/droplets/{droplet_id}/backups"
            return len(session.get(path, params={"page": 1, "per_page": 200}, timeout=30).content)

        started = time.perf_counter()
        with ThreadPoolExecutor(MAX_IN_FLIGHT) as pool:
            list(pool.map(get, jobs))
        return time.perf_counter() - started


def measure(repeats: int, progress: Callable[[str], None]) -> list[Figure]:
    """Median times of one account and of five, each on its own fresh sandbox per repeat."""
    singles, multis, floors = [], [], []
    for repeat in range(max(1, repeats)):
        progress(f"(f) one account, repeat {repeat + 1}")
        singles.append(_one_run(1, 21 + repeat))
        progress(f"(f) {ACCOUNTS} accounts, repeat {repeat + 1}")
        multis.append(_one_run(ACCOUNTS, 21 + repeat))
        progress(f"(f) transport floor, repeat {repeat + 1}")
        floors.append(_floor(21 + repeat))
    one = statistics.median(s[0] for s in singles)
    five = statistics.median(m[0] for m in multis)
    floor = statistics.median(floors)
    ratio = five / one
    one_requests = {s[2] for s in singles}
    five_requests = {m[2] for m in multis}
    exact = len(one_requests) == 1 and five_requests == {ACCOUNTS * next(iter(one_requests))}
    details = {
        "single_seconds": [round(s[0], 3) for s in singles],
        "multi_seconds": [round(m[0], 3) for m in multis],
        "floor_seconds": [round(f, 3) for f in floors],
        "single": [s[1:] for s in singles],
        "multi": [m[1:] for m in multis],
        "max_in_flight": MAX_IN_FLIGHT,
    }
    return [
        Figure(
            "f.time",
            f"backups of every Droplet, {ACCOUNTS} accounts x {DROPLETS} vs one account",
            f"{five:.2f} s / {one:.2f} s = {ratio:.2f}x",
            "<= 1.3x",
            ratio <= 1.3,
            details,
        ),
        Figure(
            "f.floor",
            f"{ACCOUNTS} accounts vs the same {ACCOUNTS * DROPLETS} backups GETs with bare "
            f"requests ({MAX_IN_FLIGHT} threads)",
            f"{five:.2f} s / {floor:.2f} s = {five / floor:.2f}x",
            "informative",
            None,
        ),
        Figure(
            "f.requests",
            f"requests, {ACCOUNTS} accounts vs one (cursor stats)",
            f"{sorted(five_requests)} / {sorted(one_requests)}",
            f"exactly {ACCOUNTS}x",
            exact,
        ),
    ]


def _section(figures: list[Figure], repeats: int) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        BEGIN,
        "## Several accounts (figure f)",
        "",
        f"Generated by `python benchmarks/accounts.py` ({stamp}, median of {repeats}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at the end). "
        f"{ACCOUNTS} sandbox accounts of {DROPLETS} Droplets each, {LATENCY_MS:.0f} ms per "
        "request, the real per-token limits (250 per minute) on both sides, fresh tokens per "
        f"run, `max_concurrency` 16 per account, at most {MAX_IN_FLIGHT} requests in flight "
        f"in the process. Statement: `{JOIN_SQL}`.",
        "",
        "| figure | value | target | |",
        "|---|---|---|---|",
    ]
    for f in figures:
        verdict = "n/a" if f.met is None else "met" if f.met else "MISSED"
        lines.append(f"| {f.label} | {f.value} | {f.target} | {verdict} |")
    lines += [
        "",
        "Each account's calls are paced by its own token's limiter and sent by its own workers, "
        "so the five run side by side, and no budget is the limit; the join looks each "
        "Droplet's backups up only with the token of the account that listed it, so the "
        "requests are exactly five times one account's. One account is bound by latency "
        "(13 rounds of 16 requests); five accounts have 80 workers, within the process's "
        f"{MAX_IN_FLIGHT} in-flight slots, so all five run side by side in about the same "
        "rounds. When the workers outnumber the slots (more accounts, or a lower "
        "`SQLPROVIDER_MAX_IN_FLIGHT`), the slots are handed out first come, first served "
        "(`http/inflight.py`), so every account advances at the same pace and all end "
        "together. (With a plain semaphore a worker that gave a slot back took it again at "
        "once, the leading accounts finished early and the last "
        "one ended alone on its own 16 workers: 1.9x.) The third line is the same GETs "
        "through bare `requests` sessions on as many threads, with no SQL at all: the "
        "client's own transport (`http.client`) now costs less per request than `requests`, "
        "so the ratio to the bare GETs is below 1.",
        END,
    ]
    return "\n".join(lines)


def main() -> int:
    """Measure, print, and rewrite the section of docs/performance.md."""
    repeats = 3
    figures = measure(repeats, lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    for f in figures:
        print(f"{f.label}: {f.value} (target {f.target}) {f.met}")
    write_section(DOC, BEGIN, END, _section(figures, repeats))
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
