"""Stress run: thousands of randomized queries under randomized faults, judged for wrong answers.

Each query is drawn from a pool of paginating scans, keyed lookups, IN lists and joins (with a
random per_page), runs on a fresh connection (no cache) while the sandbox injects a random mix
of faults at a random rate, and is judged against the fault-free rows of the same query:

- correct: exactly the fault-free rows (as a multiset), or a `sqlprovider.Error` whose message
  names the request or table that failed;
- wrong: anything else (a subset, duplicates, other rows, an unclear or foreign exception);
- hang: no answer within `--hang-seconds` (the client timeout is 0.25 s and retries are few,
  so a healthy query never comes near it).

A second phase changes the data between pages (`mutate`): the answer must be the rows before
or after the change, or `ListChangedError`. Prints a summary and writes
`benchmarks/results/stress_faults.json`.

    python benchmarks/stress_faults.py [--queries 1000] [--mutations 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlprovider
from sqlprovider.errors import ListChangedError
from sqlprovider.sandbox import FAULT_KINDS, Faults, Sandbox

RESULTS = Path(__file__).resolve().parent / "results" / "stress_faults.json"
D = "digitalocean.compute.droplets"
B = "digitalocean.compute.droplet_backups"
P = "digitalocean.compute.droplet_backup_policies"
C = "digitalocean.databases.clusters"
DB = "digitalocean.databases.backups"
NAMES_WHAT_FAILED = re.compile(r"GET /v2/\S+|digitalocean\.\w+\.\w+")
UNLIMITED = {"per_minute": 10**9, "per_hour": 10**10}
OPTIONS: dict[str, Any] = {
    "timeout": 0.25,
    "backoff": 0.005,
    "retries": 3,
    "rate_limits": ((10**9, 60.0),),
}
#: Every kind but `mutate`, which the second phase covers on its own sandbox.
KINDS = tuple(k for k in FAULT_KINDS if k != "mutate")


@dataclass
class Tally:
    """What happened to the queries of one phase."""

    queries: int = 0
    exact: int = 0
    exact_after_retries: int = 0
    clear_errors: int = 0
    wrong: int = 0
    hangs: int = 0
    faults_injected: int = 0
    errors_by_class: Counter[str] = field(default_factory=Counter)
    wrong_examples: list[str] = field(default_factory=list)


def query_pool(ids: list[int]) -> list[str]:
    """Statements that paginate, fan out or join, so faults land in the middle of reading."""
    pool = []
    for per_page in (1, 3, 5, 20, 200):
        pool += [
            f"SELECT id, name, type FROM {D} WHERE per_page = {per_page}",
            f"SELECT droplet_id, backup_enabled FROM {P} WHERE per_page = {per_page}",
            f"SELECT p.droplet_id, b.id FROM {P} p JOIN {B} b ON b.droplet_id = p.droplet_id "
            f"WHERE p.backup_enabled AND b.per_page = {max(1, per_page // 2)}",
        ]
    pool += [
        f"SELECT d.id, count(b.id) FROM {D} d LEFT JOIN {B} b ON b.droplet_id = d.id GROUP BY d.id",
        f"SELECT droplet_id, id FROM {B} WHERE droplet_id IN ({', '.join(map(str, ids[:6]))})",
        f"SELECT droplet_id, backup_policy_plan FROM {P} WHERE droplet_id IN "
        f"({', '.join(map(str, ids[2:10]))})",
        f"SELECT c.id, b.created_at FROM {C} c JOIN {DB} b ON b.database_cluster_uuid = c.id "
        "WHERE c.engine NOT IN ('redis', 'valkey')",
        f"SELECT engine, count(*) FROM {C} GROUP BY engine",
        f"SELECT count(*) FROM {D} WHERE type = 'gpus'",
    ]
    return pool


def run_query(sb: Sandbox, sql: str, hang_seconds: float) -> tuple[str, Any, dict[str, float]]:
    """("rows", sorted rows) or ("error", exc) or ("hang", None), with the cursor's stats."""
    box: dict[str, Any] = {}
    con = sqlprovider.connect(token=sb.token, api_url=sb.url, **OPTIONS)

    def work() -> None:
        cursor = con.cursor()
        try:
            box["rows"] = sorted(cursor.execute(sql).fetchall(), key=repr)
        except BaseException as exc:  # judged by the caller
            box["error"] = exc
        box["stats"] = cursor.stats

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(hang_seconds)
    if worker.is_alive():
        con.interrupt()
        return "hang", None, {}
    con.close()
    if "error" in box:
        return "error", box["error"], box.get("stats", {})
    return "rows", box["rows"], box.get("stats", {})


def judge(tally: Tally, outcome: tuple[str, Any, dict[str, float]], accepted: list[Any]) -> None:
    """Count one outcome as exact, clear error, wrong or hang."""
    kind, value, stats = outcome
    tally.queries += 1
    if kind == "hang":
        tally.hangs += 1
    elif kind == "rows" and value in accepted:
        tally.exact += 1
        tally.exact_after_retries += 1 if stats.get("retries", 0) else 0
    elif (
        kind == "error"
        and isinstance(value, sqlprovider.Error)
        and NAMES_WHAT_FAILED.search(str(value))
    ):
        tally.clear_errors += 1
        tally.errors_by_class[type(value).__name__] += 1
    else:
        tally.wrong += 1
        what = f"{type(value).__name__}: {value}" if kind == "error" else f"{len(value)} rows"
        if len(tally.wrong_examples) < 10:
            tally.wrong_examples.append(what[:300])


def faulted(sb: Sandbox) -> int:
    return sum(1 for r in sb.requests if r.fault is not None)


def random_faults(rng: random.Random) -> Faults:
    kinds = tuple(rng.sample(KINDS, rng.randint(1, 4)))
    return Faults(
        rate=rng.choice((0.05, 0.15, 0.3, 0.5)),
        kinds=kinds,
        seed=rng.randrange(10**9),
        slow_seconds=0.4,
        retry_after=1,
    )


def fault_phase(args: argparse.Namespace, deadline: float) -> Tally:
    rng = random.Random(args.seed)
    tally = Tally()
    with Sandbox(seed=args.seed, droplets=args.droplets, clusters=6, **UNLIMITED) as sb:
        ids = sorted(sb.account.droplet_ids())
        pool = query_pool(ids)
        baseline = {}
        for sql in pool:
            kind, rows, _ = run_query(sb, sql, args.hang_seconds)
            if kind != "rows":
                raise SystemExit(f"fault-free run failed: {sql}: {rows!r}")
            baseline[sql] = rows
        for _ in range(args.queries):
            if time.monotonic() > deadline:
                break
            sql = rng.choice(pool)
            faults = random_faults(rng)
            if "429" in faults.kinds and rng.random() < 0.8:
                # A 429 with retry-after waits a whole second: keep most of them out of the mix.
                faults = Faults(**{**asdict_faults(faults), "kinds": ("429-no-retry-after",)})
            sb.faults = faults
            sb.clear_requests()
            judge(tally, run_query(sb, sql, args.hang_seconds), [baseline[sql]])
            sb.faults = None
            tally.faults_injected += faulted(sb)
    return tally


def asdict_faults(faults: Faults) -> dict[str, Any]:
    return {
        "rate": faults.rate,
        "kinds": faults.kinds,
        "schedule": dict(faults.schedule),
        "seed": faults.seed,
        "slow_seconds": faults.slow_seconds,
        "retry_after": faults.retry_after,
        "path_pattern": faults.path_pattern,
    }


def mutation_phase(args: argparse.Namespace, deadline: float) -> Tally:
    """One list change in the middle of a paginated read: before, after, or ListChangedError."""
    rng = random.Random(args.seed + 1)
    tally = Tally()
    with Sandbox(seed=args.seed + 1, droplets=args.droplets, clusters=2, **UNLIMITED) as sb:
        for _ in range(args.mutations):
            if time.monotonic() > deadline:
                break
            per_page = rng.choice((2, 3, 5, 10))
            table, path = rng.choice(((D, r"/v2/droplets$"), (P, r"/policies$")))
            column = "id" if table == D else "droplet_id"
            sql = f"SELECT {column} FROM {table} WHERE per_page = {per_page}"
            before = run_query(sb, sql, args.hang_seconds)[1]
            sb.faults = Faults(schedule={rng.randint(1, 4): "mutate"}, path_pattern=path)
            outcome = run_query(sb, sql, args.hang_seconds)
            sb.faults = None
            after = run_query(sb, sql, args.hang_seconds)[1]
            if outcome[0] == "error" and not isinstance(outcome[1], ListChangedError):
                outcome = ("rows", ["unexpected error class: " + repr(outcome[1])], {})
            judge(tally, outcome, [before, after])
            tally.faults_injected += 1
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--mutations", type=int, default=100)
    parser.add_argument("--droplets", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang-seconds", type=float, default=30.0)
    parser.add_argument("--max-seconds", type=float, default=240.0, help="stop drawing queries")
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    deadline = started + args.max_seconds
    phases = {"faults": fault_phase(args, deadline), "mutations": mutation_phase(args, deadline)}
    seconds = time.monotonic() - started
    report: dict[str, Any] = {"seconds": round(seconds, 1), "seed": args.seed, "phases": {}}
    for name, tally in phases.items():
        data = asdict(tally)
        data["errors_by_class"] = dict(tally.errors_by_class)
        succeeded = tally.exact / tally.queries if tally.queries else 0.0
        data["share_exact"] = round(succeeded, 4)
        data["share_exact_after_retries"] = (
            round(tally.exact_after_retries / tally.queries, 4) if tally.queries else 0.0
        )
        report["phases"][name] = data
        print(
            f"{name:10} queries {tally.queries:5}  wrong {tally.wrong}  hangs {tally.hangs}  "
            f"exact {tally.exact} ({succeeded:.1%}; {tally.exact_after_retries} of them after "
            f"retries)  clear errors {tally.clear_errors} {dict(tally.errors_by_class)}  "
            f"faults injected {tally.faults_injected}"
        )
        for example in tally.wrong_examples:
            print("   wrong:", example)
    print(f"total {sum(t.queries for t in phases.values())} queries in {seconds:.0f} s")
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    bad = sum(t.wrong + t.hangs for t in phases.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
