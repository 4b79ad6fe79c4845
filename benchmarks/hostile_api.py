"""Figures of the "hostile API" table in docs/reliability.md: time to error, memory, requests.

Each behaviour runs once against a small loopback server of `tests/reliability/hostile.py`
(the same the tests use) and reports how long the statement took to fail (or answer), the peak
of Python allocations while it ran (tracemalloc) and how many requests reached the server.
Prints a Markdown table and writes `benchmarks/results/hostile_api.json`.

    python benchmarks/hostile_api.py
"""

from __future__ import annotations

import json
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the hostile servers live with the tests

import sqlprovider  # noqa: E402
from tests.reliability.hostile import TOKEN, Exchange, RawServer, hostile_connect  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "hostile_api.json"
BACKUPS_7 = "SELECT id FROM digitalocean.compute.droplet_backups WHERE droplet_id = 7"
LIMITS = ((250, 60.0), (5000, 3600.0))


@dataclass
class Row:
    """One behaviour's figures."""

    item: str
    behaviour: str
    outcome: str
    seconds: float
    peak_mib: float
    requests: int


def backups(*ids: int) -> dict[str, Any]:
    return {"backups": [{"id": i} for i in ids], "links": {}, "meta": {"total": len(ids)}}


def measure(
    item: str,
    behaviour: str,
    serve: Callable[[Exchange], None],
    statement: Callable[[RawServer], object],
) -> Row:
    """Run `statement` against a server playing `serve`; outcome is the rows or the error."""
    with RawServer(serve) as server:
        tracemalloc.start()
        started = time.monotonic()
        try:
            outcome = f"rows {statement(server)}"
        except sqlprovider.Error as exc:
            outcome = type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - a raw exception is the finding
            outcome = f"RAW {type(exc).__name__}"
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return Row(
            item, behaviour, outcome, round(seconds, 2), round(peak / 2**20, 1), len(server.seen)
        )


def query(sql: str = BACKUPS_7, **options: Any) -> Callable[[RawServer], object]:
    def run(server: RawServer) -> object:
        with hostile_connect(server, **options) as con:
            return con.execute(sql).fetchall()

    return run


def bomb(decoded_mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(decoded_mib)) + packer.flush()


def drip(ex: Exchange) -> None:
    body = json.dumps(backups(1)).encode() + b" " * 300
    ex.handler.send_response(200)
    ex.handler.send_header("Content-Length", str(len(body)))
    ex.handler.end_headers()
    for byte in body:
        ex.handler.wfile.write(bytes([byte]))
        ex.handler.wfile.flush()
        if not ex.pause(0.1):
            return


def refuse(**headers: str) -> Callable[[Exchange], None]:
    def answer(ex: Exchange) -> None:
        body = {"id": "too_many_requests", "message": "API rate limit exceeded."}
        ex.json(body, 429, {k.replace("_", "-"): v for k, v in headers.items()})

    return answer


def interrupted(server: RawServer) -> object:
    with hostile_connect(server, timeout=25.0) as con:
        threading.Timer(0.3, con.interrupt).start()
        return con.execute(BACKUPS_7).fetchall()


def main() -> int:
    big = bomb(512)
    rows = [
        measure(
            "1",
            "token file with a second line",
            lambda ex: ex.json(backups(1)),
            query(token=TOKEN + "\nsecond line"),
        ),
        measure(
            "2",
            "302 to another host",
            lambda ex: ex.reply(302, b"", {"Location": "http://127.0.0.2:9/v2/droplets?x=1"}),
            query(),
        ),
        measure(
            "2",
            "307 to /v2/account/keys (same host)",
            lambda ex: ex.reply(307, b"", {"Location": "/v2/account/keys"}),
            query(),
        ),
        measure(
            "9",
            "corrupt gzip body",
            lambda ex: ex.reply(200, b"\x1f\x8b\x08\x00junk", {"Content-Encoding": "gzip"}),
            query(),
        ),
        measure("9", "JSON nested 200,000 deep", lambda ex: ex.reply(200, b"[" * 200_000), query()),
        measure(
            "9",
            "ratelimit-remaining: nan",
            lambda ex: ex.json(backups(1), headers={"ratelimit-remaining": "nan"}),
            query(),
        ),
        measure(
            "9",
            "an id of 2**70 in the answer",
            lambda ex: ex.json(backups(2**70)),
            query(),
        ),
        measure(
            "10",
            "429 with retry-after: 999999",
            refuse(retry_after="999999"),
            query(retries=5, rate_limits=LIMITS, max_wait=60.0),
        ),
        measure(
            "10",
            "429, remaining 0, reset 60 s ahead, every time",
            lambda ex: refuse(
                retry_after="1",
                ratelimit_remaining="0",
                ratelimit_reset=str(int(time.time()) + 60),
            )(ex),
            query(retries=5, rate_limits=LIMITS, max_wait=30.0),
        ),
        measure(
            "11", "body dripped 1 byte per 0.1 s, timeout 1 s", drip, query(retries=0, timeout=1.0)
        ),
        measure(
            "12",
            f"gzip bomb: {len(big) // 1024} KiB -> 512 MiB, default cap",
            lambda ex: ex.reply(200, big, {"Content-Encoding": "gzip"}),
            query(),
        ),
        measure(
            "13", "answer held 20 s, interrupt() after 0.3 s", lambda ex: ex.pause(20), interrupted
        ),
    ]
    print("| item | behaviour | outcome | time to outcome | peak memory | requests |")
    print("|---|---|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.item} | {row.behaviour} | {row.outcome} | {row.seconds:.2f} s | "
            f"{row.peak_mib:.1f} MiB | {row.requests} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 1 if any(r.outcome.startswith("RAW") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
