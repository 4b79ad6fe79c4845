"""Connection options shared by the commands, and the `--sandbox` switch.

`--sandbox` starts an in-process emulator of the API on loopback and points the connection at
it, so a first query needs no token and no network.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

import sqlprovider
from sqlprovider.dbapi import Connection


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags every command that talks to the API accepts."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--token", help="API token (default: $DIGITALOCEAN_TOKEN, then $DIGITALOCEAN_ACCESS_TOKEN)"
    )
    group.add_argument(
        "--api-url", help="API base URL (default: $DIGITALOCEAN_API_URL, then the public API)"
    )
    group.add_argument(
        "--max-concurrency",
        type=int,
        default=16,
        help="parallel API requests per statement (default 16)",
    )
    group.add_argument(
        "--cache-ttl",
        type=float,
        default=0.0,
        help="seconds a response may be reused (default 0: never)",
    )
    group.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for a connection or a read"
    )
    group.add_argument(
        "--allow-http", action="store_true", help="allow plain http to a host that is not loopback"
    )
    group.add_argument(
        "--sandbox",
        action="store_true",
        help="run against a local emulator of the API (no token needed)",
    )
    group.add_argument(
        "--sandbox-seed", type=int, default=1, help="seed of the sandbox account (default 1)"
    )
    group.add_argument(
        "--sandbox-droplets",
        type=int,
        default=20,
        help="droplets in the sandbox account (default 20)",
    )
    group.add_argument(
        "--sandbox-clusters",
        type=int,
        default=6,
        help="database clusters in the sandbox (default 6)",
    )


@contextlib.contextmanager
def open_connection(args: argparse.Namespace) -> Iterator[Connection]:
    """A connection configured from `args`, with a sandbox running behind it if asked."""
    with contextlib.ExitStack() as stack:
        token, api_url = args.token, args.api_url
        if args.sandbox:
            from sqlprovider.sandbox import Sandbox

            sandbox = stack.enter_context(
                Sandbox(
                    seed=args.sandbox_seed,
                    droplets=args.sandbox_droplets,
                    clusters=args.sandbox_clusters,
                )
            )
            token, api_url = sandbox.token, sandbox.url
        connection = sqlprovider.connect(
            token=token,
            api_url=api_url,
            max_concurrency=args.max_concurrency,
            cache_ttl=args.cache_ttl,
            timeout=args.timeout,
            allow_http=args.allow_http,
        )
        stack.callback(connection.close)
        yield connection
