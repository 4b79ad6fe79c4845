"""Figure (i): peak memory of backups of every Droplet, 1,000 against 10,000 Droplets.

A fan-out over every Droplet must not hold every Droplet's answer until the statement ends:
answers stream into rows and are let go once read, while answers a later call of the same
statement may reuse stay within a byte bound. Each size runs in a fresh Python process (its
peak resident set, VmHWM, is the figure) against a sandbox in a process of its own, so
the sandbox's account data is not counted. The sandbox has no latency: memory does not depend
on it. Target: the peak at 10,000 Droplets at most 1.2x the peak at 1,000, and the requests
exactly the minimum plus exactness checks, computed as in figure (a) (`a.join_droplets`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import requests_made
from cold import served
from common import Figure

from sqlprovider.sandbox import Sandbox

D = "digitalocean.compute"
JOIN_SQL = (
    f"SELECT d.name, b.* FROM {D}.droplets d JOIN {D}.droplet_backups b ON b.droplet_id = d.id"
)
SIZES = (1_000, 10_000)
SEED = 21


def _minimum(droplets: int) -> int:
    """Requests the JOIN form must make (minimum + checks), from the same account data."""
    sb = Sandbox(seed=SEED, droplets=droplets, clusters=2)  # not served: only its data
    case = next(c for c in requests_made.cases(sb) if c.key == "a.join_droplets")
    return case.minimum + case.checks


#: One statement in a fresh process; prints rows, requests and peak RSS (argv: url, token, sql).
_CHILD = """
import json, resource, sys
import sqlprovider
con = sqlprovider.connect(token=sys.argv[2], api_url=sys.argv[1],
                          rate_limits=((10_000_000, 60.0),), timeout=60.0)
cursor = con.cursor()
rows = sum(1 for _ in cursor.execute(sys.argv[3]))
# VmHWM is this process's own peak. ru_maxrss is not: Linux carries it over from the parent
# at fork, so a child of a large benchmark process would report the parent's size.
try:
    with open("/proc/self/status") as status:
        peak = next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rows": rows, "requests": cursor.stats["requests"], "peak": peak,
                  "stats": cursor.stats}))
"""


def measure(progress: Callable[[str], None]) -> list[Figure]:
    """Peak RSS of the JOIN form at each size, each in a fresh process."""
    runs = {}
    for size in SIZES:
        with served(0.0, seed=SEED, droplets=size) as line:
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, line["url"], line["token"], JOIN_SQL],
                check=True,
                capture_output=True,
                text=True,
            )
            runs[size] = json.loads(done.stdout.splitlines()[-1])
        progress(f"i: {size:,} Droplets, peak {runs[size]['peak'] / 2**20:.0f} MiB")
    small, big = (runs[s] for s in SIZES)
    ratio = big["peak"] / small["peak"]
    minimum = {s: _minimum(s) for s in SIZES}
    exact = all(runs[s]["requests"] == minimum[s] for s in SIZES)
    return [
        Figure(
            "i.peak_rss",
            "backups of every Droplet: peak RSS at 10,000 vs 1,000 Droplets (JOIN form)",
            f"{big['peak'] / 2**20:.0f} MiB / {small['peak'] / 2**20:.0f} MiB = {ratio:.2f}x "
            f"(requests {big['requests']:,} / {small['requests']:,})",
            "<= 1.2x, requests = minimum",
            ratio <= 1.2 and exact,
            {"runs": runs, "minimum": minimum},
        )
    ]


if __name__ == "__main__":
    for figure in measure(lambda m: print(f"  {m}", file=sys.stderr, flush=True)):
        print(f"{figure.label}: {figure.value} (target {figure.target}) {figure.met}")
