"""Stress run: randomized write statements under write faults, judged on the sandbox's actions.

Each statement is an UPDATE of droplet_backup_policies on a random handful of Droplets (enable,
disable, or change the plan, weekday or hour), run in autocommit, inside BEGIN ... COMMIT, inside
BEGIN ... ROLLBACK, as a dry run, or with an invalid value; a third of them wait for their
actions. Faults hit the action endpoints at random: the action applied then a 500/503 or a
dropped connection (the lost answer), plain 5xx and resets, timeouts (`slow` beyond the client's
timeout), 429, and actions that end errored. Every statement is then judged against the
sandbox's own record of the actions it started:

- duplicate: a Droplet got more than one action from one statement;
- false success: a row reported accepted or completed without a matching action (or, waited
  for, without a completed one), or a statement that succeeded while one of its rows did not;
- false failure: a row reported failed although its action started (informative);
- leak: a dry run, a rolled-back transaction or a refused statement that started an action;
- hang: no answer within `--hang-seconds` (the statement is then interrupted).

    python benchmarks/stress_writes.py [--statements 1000] [--seed 1] [--docs]

Prints a summary, writes `benchmarks/results/stress_writes.json`, and with --docs rewrites the
write section of docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import write_section

import sqlprovider
from sqlprovider.sandbox import Faults, Sandbox

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "stress_writes.json"
DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- stress-writes: begin -->", "<!-- stress-writes: end -->"
P = "digitalocean.compute.droplet_backup_policies"
KINDS = ("apply-500", "apply-503", "apply-reset", "500", "503", "reset", "429", "errored", "slow")
ACTION_PATHS = r"^/v2/(droplets/\d+/actions|actions/\d+)$"
HOURS = (0, 4, 8, 12, 16, 20)
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def assignment(rng: random.Random) -> tuple[str, str]:
    """A random SET clause and what it asks for (`on`, `off` or `policy`)."""
    roll = rng.random()
    if roll < 0.3:
        return "backup_enabled = 0", "off"
    if roll < 0.55:
        return "backup_enabled = 1", "on"
    if roll < 0.75:
        day = rng.choice(DAYS)
        return (
            f"backup_enabled = 1, backup_policy_plan = 'weekly', backup_policy_weekday = '{day}', "
            f"backup_policy_hour = {rng.choice(HOURS)}",
            "on",
        )
    if roll < 0.9:
        return f"backup_policy_hour = {rng.choice(HOURS)}", "policy"
    return "backup_policy_plan = 'daily'", "policy"


class Judge:
    """Counts verdicts across statements."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def note(self, verdict: str, detail: str = "") -> None:
        self.counts[verdict] += 1
        if detail and len(self.examples.setdefault(verdict, [])) < 5:
            self.examples[verdict].append(detail[:300])


def run(statements: int, seed: int, hang_seconds: float) -> dict[str, Any]:
    """Run the stress and return the report."""
    rng = random.Random(seed)
    judge = Judge()
    started = time.perf_counter()
    with Sandbox(seed=seed, droplets=24, clusters=1, per_minute=10**7, per_hour=10**8) as sb:
        ids = sb.account.droplet_ids()
        common = {
            "token": sb.token,
            "api_url": sb.url,
            "retries": 3,
            "backoff": 0.01,
            "timeout": 0.5,
            "rate_limits": ((10**7, 60.0),),
        }
        plain = sqlprovider.connect(allow_writes=True, **common)
        waiting = sqlprovider.connect(allow_writes=True, wait=True, wait_timeout=20, **common)
        dry = sqlprovider.connect(dry_run=True, **common)
        try:
            for number in range(1, statements + 1):
                sb.faults = Faults(
                    rate=rng.choice((0.0, 0.15, 0.3, 0.5)),
                    kinds=KINDS,
                    seed=rng.randrange(10**9),
                    path_pattern=ACTION_PATHS,
                    slow_seconds=0.8,
                    retry_after=1,
                )
                one(rng, sb, ids, plain, waiting, dry, judge, hang_seconds, number)
        finally:
            for con in (plain, waiting, dry):
                con.close()
        sb.faults = None
    elapsed = time.perf_counter() - started
    return {
        "statements": statements,
        "seed": seed,
        "seconds": round(elapsed, 1),
        "counts": dict(judge.counts),
        "examples": judge.examples,
    }


def one(
    rng: random.Random,
    sb: Sandbox,
    ids: list[int],
    plain: sqlprovider.Connection,
    waiting: sqlprovider.Connection,
    dry: sqlprovider.Connection,
    judge: Judge,
    hang_seconds: float,
    number: int,
) -> None:
    """Run and judge one randomized statement (or transaction)."""
    mode = rng.choices(
        ("auto", "commit", "rollback", "dry", "invalid"), weights=(60, 15, 10, 8, 7)
    )[0]
    waited = mode in ("auto", "commit") and rng.random() < 0.33
    con = dry if mode == "dry" else waiting if waited else plain
    chosen = rng.sample(ids, rng.randint(1, 5))
    set_clause, _ = assignment(rng)
    if mode == "invalid":
        set_clause = rng.choice(
            ("backup_policy_hour = 3", "backup_policy_plan = 'hourly'", "backup_enabled = 7")
        )
    where = f"droplet_id IN ({', '.join(map(str, chosen))})"
    script = [f"UPDATE {P} SET {set_clause} WHERE {where}"]
    if mode in ("commit", "rollback"):
        half = len(chosen) // 2 or 1
        first, second = chosen[:half], chosen[half:]
        other, _ = assignment(rng)
        script = ["BEGIN", f"UPDATE {P} SET {set_clause} WHERE droplet_id IN ({_ids(first)})"]
        if second:
            script.append(f"UPDATE {P} SET {other} WHERE droplet_id IN ({_ids(second)})")
        script.append("COMMIT" if mode == "commit" else "ROLLBACK")
    before = {a["id"] for a in sb.actions.all()}
    batch = con.session.writer.batch
    timer = threading.Timer(hang_seconds, con.interrupt)
    timer.start()
    failed: BaseException | None = None
    t0 = time.perf_counter()
    try:
        for sql in script:
            con.execute(sql)
    except sqlprovider.Error as exc:
        failed = exc
        if con.apsw_connection.in_transaction:
            con.rollback()
    finally:
        timer.cancel()
    if time.perf_counter() - t0 >= hang_seconds:
        judge.note("hang", f"#{number} {script}")
        return
    new = [a for a in sb.actions.all() if a["id"] not in before]
    per_droplet = Counter(a["resource_id"] for a in new)
    if any(n > 1 for n in per_droplet.values()):
        judge.note("duplicate", f"#{number} {script}: {per_droplet}")
    if mode in ("dry", "rollback", "invalid"):
        if new:
            judge.note("leak", f"#{number} {mode} started {len(new)} actions: {script}")
        elif mode == "invalid" and not isinstance(failed, sqlprovider.ProgrammingError):
            judge.note("wrong", f"#{number} invalid value not refused: {failed!r}")
        else:
            judge.note("ok")
        return
    # The writer's last batch is this statement's only when it sent one (a statement whose
    # rows were all as asked sends nothing and leaves the previous batch in place).
    sent = con.session.writer.batch != batch
    outcomes = con.session.writer.last if sent else []
    by_droplet = {a["resource_id"]: a for a in new}
    bad = False
    for outcome in outcomes:
        droplet_id = int(outcome.change.key[0][1])
        action = by_droplet.get(droplet_id)
        if outcome.status in ("accepted", "completed"):
            ok = action is not None and action["type"] == outcome.change.action
            if ok and outcome.status == "completed":
                ok = action is not None and action["status"] == "completed"
            if ok and waited and action is not None and action["status"] != "completed":
                ok = outcome.status != "completed" and failed is not None
            if not ok:
                bad = True
                judge.note(
                    "false success",
                    f"#{number} {outcome.status} {outcome.record_id} confirmed="
                    f"{outcome.confirmed} vs {action} waited={waited} failed={failed!r}",
                )
        elif outcome.status == "failed" and action is not None:
            judge.note("false failure", f"#{number} {outcome.change.key_text} had {action}")
    if failed is None:
        if any(not o.ok for o in outcomes):
            bad = True
            judge.note("false success", f"#{number} succeeded with {outcomes}")
        if waited and any(a["status"] != "completed" for a in new):
            bad = True
            judge.note("false success", f"#{number} waited, but actions {new}")
    if not bad:
        judge.note("ok" if failed is None else "reported failure")


def _ids(values: list[int]) -> str:
    return ", ".join(map(str, values))


def markdown(report: dict[str, Any]) -> str:
    """The section of docs/reliability.md."""
    counts = report["counts"]
    rows = [
        ("duplicate actions", counts.get("duplicate", 0), "0"),
        (
            "statements reporting success for an unapplied change",
            counts.get("false success", 0),
            "0",
        ),
        ("actions started by a dry run, ROLLBACK or refused statement", counts.get("leak", 0), "0"),
        ("hangs", counts.get("hang", 0), "0"),
        ("other wrong outcomes", counts.get("wrong", 0), "0"),
        ("statements that succeeded, judged right", counts.get("ok", 0), "-"),
        (
            "statements that reported a failure, judged right",
            counts.get("reported failure", 0),
            "-",
        ),
        ("rows reported failed whose action had started", counts.get("false failure", 0), "-"),
    ]
    lines = [
        BEGIN,
        "## Writes under faults (benchmarks/stress_writes.py)",
        "",
        f"{report['statements']} randomized UPDATE statements (autocommit, BEGIN ... COMMIT, "
        "BEGIN ... ROLLBACK, dry runs, invalid values; a third waited for their actions) "
        "against the sandbox (each statement under a fault rate drawn from 0, 15, 30 or 50% of "
        "its action requests), with faults on the action endpoints: applied then 500/503 or a "
        "dropped connection, plain 5xx, resets, timeouts, 429, errored actions. Seed "
        f"{report['seed']}, {report['seconds']} s. Each row is judged on the sandbox's own "
        "record of the actions started.",
        "",
        "| Outcome | Count | Target |",
        "|---|---|---|",
        *[f"| {label} | {value} | {target} |" for label, value, target in rows],
        "",
        "Run it with `python benchmarks/stress_writes.py --statements 1000 --docs`.",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run, print, save; 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang-seconds", type=float, default=60.0)
    parser.add_argument("--docs", action="store_true", help="rewrite docs/reliability.md")
    args = parser.parse_args(argv)
    report = run(args.statements, args.seed, args.hang_seconds)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    section = markdown(report)
    print(section)
    if args.docs:
        write_section(DOC, BEGIN, END, section)
    counts = report["counts"]
    bad = sum(counts.get(k, 0) for k in ("duplicate", "false success", "leak", "hang", "wrong"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
