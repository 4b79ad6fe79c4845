"""Stress run: randomized multi-account queries with faults on one account, judged per row.

Three sandbox accounts (half of their Droplet ids shared, their data different) are read by one
connection, cache on or off at random. Only `sandbox3` gets faults (401, 429, 5xx, dropped and
truncated answers, at a random rate), so every failure must be that account's. Each query is a
random scan, keyed lookup, IN list, join or per-account aggregate, with a random `account`
filter, in `fail` or `skip` mode at random, and is judged against the fault-free rows each
account's own single-account connection returns:

- misattributed: a row whose account did not return it (a row of another account, or a join
  that matched across accounts) - must be 0;
- silent partial: rows missing with no error and no recorded, warned failure (`skip` mode
  with `account_errors` empty, or an account other than `sandbox3` incomplete) - must be 0;
- unnamed error: a `fail`-mode error that does not name `sandbox3` - must be 0.

Prints a summary, writes `benchmarks/results/stress_accounts.json` and the figures section of
docs/reliability.md.

    python benchmarks/stress_accounts.py [--queries 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlprovider
from sqlprovider.sandbox import Faults, Sandbox

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "stress_accounts.json"
DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- accounts stress: begin -->", "<!-- accounts stress: end -->"
D = "digitalocean.compute.droplets"
B = "digitalocean.compute.droplet_backups"
P = "digitalocean.compute.droplet_backup_policies"
C = "digitalocean.databases.clusters"
DB = "digitalocean.databases.backups"
NAMES = ("sandbox1", "sandbox2", "sandbox3")
FAULTY = "sandbox3"
KINDS = ("401", "429", "500", "502", "503", "504", "reset", "truncate")
UNLIMITED = {"per_minute": 10**9, "per_hour": 10**10}
FAST: dict[str, Any] = {
    "timeout": 2.0,
    "backoff": 0.002,
    "retries": 1,
    "rate_limits": ((10**9, 60.0),),
}

Row = tuple[Any, ...]


def templates(rng: random.Random, shared: list[int]) -> tuple[str, str, str]:
    """(kind, SQL without an account filter, the alias whose account a filter narrows)."""
    some = ", ".join(str(i) for i in rng.sample(shared, min(len(shared), rng.randint(1, 4))))
    modulo = rng.randint(2, 4)
    choices = [
        ("scan", f"SELECT d.account, d.id, d.name, d.status FROM {D} d WHERE 1", "d"),
        (
            "in",
            f"SELECT p.account, p.droplet_id, p.backup_enabled FROM {P} p "
            f"WHERE p.droplet_id IN ({some})",
            "p",
        ),
        (
            "join",
            f"SELECT d.account, d.id, b.id, b.created_at FROM {D} d "
            f"JOIN {B} b ON b.droplet_id = d.id WHERE d.id % {modulo} = {rng.randrange(modulo)}",
            "d",
        ),
        (
            "left join",
            f"SELECT d.account, d.id, p.backup_policy_plan FROM {D} d "
            f"LEFT JOIN {P} p ON p.droplet_id = d.id WHERE 1",
            "d",
        ),
        ("aggregate", f"SELECT d.account, count(*), sum(d.memory) FROM {D} d WHERE 1", "d"),
        (
            "clusters",
            f"SELECT c.account, c.id, b.created_at FROM {C} c "
            f"JOIN {DB} b ON b.database_cluster_uuid = c.id "
            "WHERE c.engine NOT IN ('redis', 'valkey')",
            "c",
        ),
    ]
    return rng.choice(choices)


class Oracle:
    """Each account's fault-free rows for a query, from its own single-account connection."""

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb
        self._known: dict[str, dict[str, Counter[Row]]] = {}

    def rows(self, sql: str) -> dict[str, Counter[Row]]:
        if sql not in self._known:
            faults = self._sb.faults
            self._sb.set_faults(None, account=FAULTY)
            try:
                per_account: dict[str, Counter[Row]] = {}
                for name in NAMES:
                    token = self._sb.account_named(name).token
                    with sqlprovider.connect(token=token, api_url=self._sb.url, **FAST) as con:
                        found = con.execute(sql).fetchall()
                    per_account[name] = Counter((name, *row[1:]) for row in found)
                self._known[sql] = per_account
            finally:
                self._sb.faults = faults
        return self._known[sql]


def main(argv: list[str] | None = None) -> int:
    """Run the queries and judge them; 1 if any answer was misattributed or silently partial."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tally: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    started = time.perf_counter()
    with Sandbox(seed=args.seed, droplets=14, clusters=4, accounts=3, **UNLIMITED) as sb:
        shared = sorted(
            set(sb.account_named("sandbox1").account.droplet_ids())
            & set(sb.account_named("sandbox2").account.droplet_ids())
        )
        oracle = Oracle(sb)
        connections = {
            (mode, ttl): sqlprovider.connect(
                config=sb.config(), accounts="*", on_account_error=mode, cache_ttl=ttl, **FAST
            )
            for mode in ("fail", "skip")
            for ttl in (0.0, 30.0)
        }
        try:
            for number in range(args.queries):
                kind, sql, alias = templates(rng, shared)
                wanted = sorted(rng.sample(NAMES, rng.randint(1, 3)))
                narrowed = len(wanted) < 3 or rng.random() < 0.2
                query = sql
                if narrowed:
                    listed = ", ".join(f"'{n}'" for n in wanted)
                    query += f" AND {alias}.account IN ({listed})"
                else:
                    wanted = list(NAMES)
                if kind == "aggregate":
                    query += " GROUP BY d.account"
                    sql += " GROUP BY d.account"
                expected = oracle.rows(sql)
                mode = rng.choice(("fail", "skip"))
                con = connections[(mode, rng.choice((0.0, 30.0)))]
                rate = rng.choice((0.0, 0.05, 0.2, 0.6))
                sb.set_faults(
                    Faults(rate=rate, kinds=tuple(rng.sample(KINDS, 3)), seed=number),
                    account=FAULTY,
                )
                kinds[kind] += 1
                tally["queries"] += 1
                judge(con, query, wanted, expected, mode, tally)
        finally:
            for con in connections.values():
                con.close()
    seconds = time.perf_counter() - started
    summary = {"seed": args.seed, "seconds": round(seconds, 1), **tally, "kinds": dict(kinds)}
    print(json.dumps(summary, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _write_doc(summary)
    bad = tally["misattributed"] + tally["silent_partial"] + tally["unnamed_error"]
    return 1 if bad else 0


def judge(
    con: sqlprovider.Connection,
    query: str,
    wanted: list[str],
    expected: dict[str, Counter[Row]],
    mode: str,
    tally: Counter[str],
) -> None:
    """Run one query and count what its answer was."""
    truth: Counter[Row] = Counter()
    for name in wanted:
        truth.update(expected[name])
    try:
        cursor = con.execute(query)
        got = Counter(tuple(row) for row in cursor.fetchall())
    except sqlprovider.Error as exc:
        if mode == "fail" and re.search(rf"account '{FAULTY}'", str(exc)):
            tally["failed_naming_the_account"] += 1
        else:
            tally["unnamed_error"] += 1
            print(f"unnamed error ({mode}): {query}\n  {exc}", file=sys.stderr)
        return
    rows_by_account: dict[str, Counter[Row]] = {}
    for row, count in got.items():
        rows_by_account.setdefault(str(row[0]), Counter())[row] += count
    wrong = 0
    for account, rows in rows_by_account.items():
        allowed = expected.get(account, Counter()) if account in wanted else Counter()
        wrong += sum((rows - allowed).values())
    tally["rows"] += sum(got.values())
    tally["misattributed"] += wrong
    skipped = {e["account"] for e in cursor.account_errors}
    warned = all(any(f"account '{a}'" in w for w in cursor.warnings) for a in skipped)
    complete = {a for a in wanted if rows_by_account.get(a, Counter()) == expected[a]}
    if got == truth:
        tally["exact"] += 1
    elif skipped <= {FAULTY} and skipped and warned and set(wanted) - complete <= skipped:
        tally["skipped_and_recorded"] += 1
    else:
        tally["silent_partial"] += 1
        print(f"silent partial ({mode}, skipped {skipped}): {query}", file=sys.stderr)
    if wrong:
        print(f"misattributed rows: {query}", file=sys.stderr)


def _write_doc(summary: dict[str, Any]) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = "\n".join(
        [
            BEGIN,
            "### Several accounts: `python benchmarks/stress_accounts.py`",
            "",
            f"{summary['queries']:,} randomized queries (seed {summary['seed']}, "
            f"{summary['seconds']} s) on one connection to three sandbox accounts whose "
            "Droplet ids half overlap, cache on or off, `fail` or `skip` at random, with faults "
            f"(401, 429, 5xx, dropped and truncated answers at 0-60%) on `{FAULTY}` only. Each "
            "answer is judged row by row against what each account's own connection returns "
            f"without faults. Kinds: {', '.join(f'{k} {v}' for k, v in summary['kinds'].items())}.",
            "",
            "| outcome | count |",
            "|---|---|",
            f"| exact answer | {summary.get('exact', 0)} |",
            f"| `skip`: the faulty account left out, recorded and warned, the others exact | "
            f"{summary.get('skipped_and_recorded', 0)} |",
            f"| `fail`: error naming account '{FAULTY}' | "
            f"{summary.get('failed_naming_the_account', 0)} |",
            f"| rows returned | {summary.get('rows', 0):,} |",
            f"| **rows attributed to the wrong account** | {summary.get('misattributed', 0)} |",
            f"| **silently partial answers** | {summary.get('silent_partial', 0)} |",
            f"| errors not naming the failing account | {summary.get('unnamed_error', 0)} |",
            END,
        ]
    )
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(section, text)
    else:
        marker = "## Bugs these tests found"
        text = text.replace(marker, section + "\n\n" + marker, 1)
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
