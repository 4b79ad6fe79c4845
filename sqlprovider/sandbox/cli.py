"""Command-line wiring of `sqlprovider sandbox serve` (also `python -m sqlprovider.sandbox`).

`add_serve_arguments` declares the flags on an argparse parser; `run_serve` starts a `Sandbox`,
prints one JSON line (`url`, `token`, sizes, and with `--accounts N` the `accounts`' names
and tokens) on stdout, and serves until SIGINT or SIGTERM, then
exits 0. Imports nothing from sqlprovider outside this package.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from types import FrameType

from .faults import KINDS, Faults, parse_kinds, parse_schedule
from .harness import Sandbox


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the `sandbox serve` flags on `parser`."""
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    add("--port", type=int, default=0, help="port to bind; 0 picks a free one (default 0)")
    add("--seed", type=int, default=1, help="seed of the account data (default 1)")
    add("--droplets", type=int, default=20, help="number of droplets (default 20)")
    add("--clusters", type=int, default=6, help="number of database clusters (default 6)")
    add(
        "--accounts",
        type=int,
        default=1,
        help="accounts to serve, each with its own token, seed and rate limit (default 1)",
    )
    add(
        "--now",
        type=_now,
        default=None,
        help="account clock: epoch seconds, or 'real' for the current time "
        "(default: a fixed instant, 2026-11-01T12:00:00Z, so output is repeatable)",
    )
    add("--token", default=None, help="bearer token to accept (default: random sandbox-...)")
    add("--latency-ms", type=float, default=0.0, help="delay added to every request")
    add(
        "--action-seconds",
        type=float,
        default=0.0,
        help="seconds a Droplet action stays in-progress before it completes",
    )
    add("--jitter-ms", type=float, default=0.0, help="extra random delay, 0..N ms")
    add("--per-minute", type=int, default=250, help="burst limit per token (default 250)")
    add("--per-hour", type=int, default=5000, help="hourly limit per token (default 5000)")
    add("--minute-seconds", type=float, default=60.0, help="length of a rate-limit minute")
    add("--fault-rate", type=float, default=0.0, help="probability 0..1 of a fault per request")
    add(
        "--fault-kinds",
        default="500",
        help=f"comma-separated kinds drawn by --fault-rate, among: {','.join(KINDS)}",
    )
    add("--fault-schedule", default="", help="request number to kind, e.g. 3:502,7:reset")
    add("--fault-seed", type=int, default=0, help="seed of the fault draws (default 0)")
    add("--slow-seconds", type=float, default=2.0, help="pause before the body of a slow fault")
    add("--retry-after", type=int, default=1, help="retry-after seconds of an injected 429")
    add("--fault-path", default=None, help="regex: only paths matching it get faults")
    add(
        "--fault-account",
        default=None,
        metavar="NAME",
        help="only this account's requests get the faults (sandbox2, ...; with --accounts)",
    )


def _now(text: str) -> int:
    """Parse `--now`: epoch seconds or `real`."""
    if text == "real":
        return int(time.time())
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected epoch seconds or 'real'") from None


def build_sandbox(args: argparse.Namespace) -> Sandbox:
    """Create (not start) the sandbox the parsed flags describe.

    Raises:
        ValueError: A flag value is invalid (unknown fault kind, bad schedule, ...).
    """
    faults = Faults(
        rate=args.fault_rate,
        kinds=parse_kinds(args.fault_kinds),
        schedule=parse_schedule(args.fault_schedule),
        seed=args.fault_seed,
        slow_seconds=args.slow_seconds,
        retry_after=args.retry_after,
        path_pattern=args.fault_path,
    )
    targeted = getattr(args, "fault_account", None)
    sandbox = Sandbox(
        seed=args.seed,
        droplets=args.droplets,
        clusters=args.clusters,
        token=args.token,
        latency_ms=args.latency_ms,
        action_seconds=args.action_seconds,
        jitter_ms=args.jitter_ms,
        per_minute=args.per_minute,
        per_hour=args.per_hour,
        minute_seconds=args.minute_seconds,
        faults=None if targeted else faults,
        host=args.host,
        port=args.port,
        now=args.now,
        accounts=args.accounts,
    )
    if targeted:
        try:
            sandbox.set_faults(faults, account=targeted)
        except KeyError:
            names = ", ".join(a.name for a in sandbox.accounts)
            raise ValueError(f"--fault-account {targeted!r}: the accounts are {names}") from None
    return sandbox


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; print one JSON line with `url` and `token` first.

    Returns:
        0 after SIGINT/SIGTERM, 2 for invalid flag values.
    """
    try:
        sandbox = build_sandbox(args)
    except ValueError as exc:
        print(f"sandbox serve: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with sandbox:
            line: dict[str, object] = {
                "url": sandbox.url,
                "token": sandbox.token,
                "seed": args.seed,
                "droplets": args.droplets,
                "clusters": args.clusters,
            }
            if len(sandbox.accounts) > 1:
                line["accounts"] = [{"name": a.name, "token": a.token} for a in sandbox.accounts]
            print(json.dumps(line), flush=True)
            while not stop.wait(0.2):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run `serve` from the command line (`python -m sqlprovider.sandbox [serve] ...`)."""
    parser = argparse.ArgumentParser(
        prog="python -m sqlprovider.sandbox",
        description="Serve a local emulator of the DigitalOcean API v2 backups endpoints.",
    )
    add_serve_arguments(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        argv = argv[1:]
    return run_serve(parser.parse_args(argv))
