"""Connection flags shared by the commands, the token's safe sources, and the `--sandbox` switch.

The flags are generated from `sqlprovider.options.ConnectOptions` (one `--name` per setting,
with the setting's own help and check), so the CLI never drifts from `connect()`. A bad value
is reported under the flag's name (`--max-concurrency must be at least 1`).

The token: `--token-file PATH` (`-` reads one line from stdin) and `--token-prompt` (asks
without echo) are the safe forms; `--token TOKEN` works but is visible to other users of the
machine in `ps` and in the shell history. Without any, $DIGITALOCEAN_TOKEN is used.

Accounts: `--account NAME` (repeatable) and `--all-accounts` pick the configured accounts to
read (`--config FILE` names the file), `--skip-failed-accounts` returns the other accounts' rows
when one fails (a warning names it).

`--sandbox` starts an in-process emulator of the API on loopback and points the connection at
it, so a first query needs no token and no network. With `--account`/`--all-accounts` it
serves three accounts (`sandbox1`..`sandbox3`, or `--sandbox-accounts N`) and they are read.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlprovider import options as settings
from sqlprovider.dbapi import Connection, connect
from sqlprovider.errors import InterfaceError
from sqlprovider.options import ConnectOptions, OptionError


def flag_of(name: str) -> str:
    """The CLI flag of setting `name`: `max_concurrency` -> `--max-concurrency`."""
    return "--" + name.replace("_", "-")


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags every command that talks to the API accepts (one per `ConnectOptions` setting)."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--token",
        help="API token. WARNING: visible to other users in `ps` and kept in shell history; "
        "prefer --token-file, --token-prompt or $DIGITALOCEAN_TOKEN "
        "(default: $DIGITALOCEAN_TOKEN, then $DIGITALOCEAN_ACCESS_TOKEN)",
    )
    group.add_argument(
        "--token-file",
        metavar="PATH",
        help="read the API token from this file (its only line); '-' reads it from stdin",
    )
    group.add_argument(
        "--token-prompt",
        action="store_true",
        help="ask for the API token on the terminal, without echo",
    )
    for item in settings.fields():
        meta = item.metadata
        if not meta["cli"]:
            continue
        default = item.default
        shown = "" if default is None or isinstance(default, bool) else f" (default {default:g})"
        if isinstance(default, str):
            shown = f" (default {default})"
        if isinstance(default, bool):
            group.add_argument(
                flag_of(item.name),
                dest=item.name,
                action=argparse.BooleanOptionalAction if default else "store_true",
                default=None,
                help=meta["doc"].rstrip(".").lower()[:1] + meta["doc"].rstrip(".")[1:],
            )
            continue
        group.add_argument(
            flag_of(item.name),
            dest=item.name,
            default=None,
            type=_text_of(item.name),
            choices=meta["choices"] or None,
            metavar=meta["metavar"],
            help=meta["doc"].rstrip(".") + shown,
        )
    group.add_argument(
        "--account",
        action="append",
        metavar="NAME",
        help="read this configured account (repeatable; default: the config's "
        "default_accounts, else 'default')",
    )
    group.add_argument("--all-accounts", action="store_true", help="read every configured account")
    group.add_argument(
        "--skip-failed-accounts",
        action="store_true",
        help="when an account fails, return the other accounts' rows (a warning names it)",
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
    group.add_argument(
        "--sandbox-accounts",
        type=int,
        default=None,
        help="accounts in the sandbox (default 1, or 3 with --account or --all-accounts)",
    )


def _text_of(name: str) -> Any:
    """argparse's `type=` for setting `name`: its parser, with the flag named on failure."""

    def parse(text: str) -> Any:
        try:
            return settings.parse_text(name, text)
        except OptionError as exc:
            raise argparse.ArgumentTypeError(exc.problem) from exc

    parse.__name__ = name
    return parse


def options_from_args(args: argparse.Namespace) -> ConnectOptions:
    """The `ConnectOptions` the flags ask for (settings not given keep their defaults).

    Raises:
        InterfaceError: a bad value, named by its flag; or a token that cannot be read.
    """
    given = {
        item.name: getattr(args, item.name)
        for item in settings.fields()
        if item.metadata["cli"] and getattr(args, item.name, None) is not None
    }
    token = read_token(args)
    if token is not None:
        given["token"] = token
    accounts = "*" if getattr(args, "all_accounts", False) else getattr(args, "account", None)
    if accounts is not None:
        given["accounts"] = accounts
    if getattr(args, "skip_failed_accounts", False):
        given["on_account_error"] = "skip"
    try:
        return ConnectOptions.from_values(given)
    except OptionError as exc:
        raise exc.renamed(flag_of(exc.option)) from None


def read_token(args: argparse.Namespace) -> str | None:
    """The token from --token, --token-file or --token-prompt (at most one), else None.

    Raises:
        InterfaceError: two sources given, an unreadable or empty file, a file of several
            lines. The message never holds the file's content.
    """
    chosen = [
        flag
        for flag, given in (
            ("--token", getattr(args, "token", None) is not None),
            ("--token-file", getattr(args, "token_file", None) is not None),
            ("--token-prompt", bool(getattr(args, "token_prompt", False))),
        )
        if given
    ]
    if len(chosen) > 1:
        raise InterfaceError(f"give the token one way, not with {' and '.join(chosen)}")
    if getattr(args, "token_file", None) is not None:
        return _token_from_file(args.token_file)
    if getattr(args, "token_prompt", False):
        import getpass  # only the prompt needs it (it loads the terminal modules)

        return getpass.getpass("DigitalOcean API token: ")
    token: str | None = getattr(args, "token", None)
    return token


def _token_from_file(path: str) -> str:
    where = "stdin" if path == "-" else path
    try:
        text = sys.stdin.readline() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise InterfaceError(f"--token-file: cannot read {where}: {reason}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InterfaceError(f"--token-file: {where} holds no token")
    if len(lines) > 1:
        raise InterfaceError(
            f"--token-file: {where} holds {len(lines)} lines; put only the token in it"
        )
    return lines[0].strip()


@contextlib.contextmanager
def open_connection(args: argparse.Namespace) -> Iterator[Connection]:
    """A connection configured from `args`, with a sandbox running behind it if asked."""
    with contextlib.ExitStack() as stack:
        options = options_from_args(args)
        if args.sandbox:
            from sqlprovider.sandbox import Sandbox

            several = options.accounts is not None
            sandbox = stack.enter_context(
                Sandbox(
                    seed=args.sandbox_seed,
                    droplets=args.sandbox_droplets,
                    clusters=args.sandbox_clusters,
                    accounts=args.sandbox_accounts or (3 if several else 1),
                    now=getattr(args, "sandbox_now", None),
                )
            )
            if several:
                options = options.replace(config=sandbox.config())
            else:
                options = options.replace(token=sandbox.token, api_url=sandbox.url)
        try:
            connection = connect(options=options)
        except OptionError as exc:
            raise exc.renamed(flag_of(exc.option)) from None
        stack.callback(connection.close)
        yield connection
