"""`sqlprovider sandbox serve`: the local emulator of the API, from the command line."""

from __future__ import annotations

from typing import Any


def register(commands: Any) -> None:
    """Add `sandbox serve` to the `sqlprovider` subcommands."""
    from sqlprovider.sandbox.cli import add_serve_arguments, run_serve

    sandbox = commands.add_parser("sandbox", help="the local emulator of the DigitalOcean API")
    sandbox_commands = sandbox.add_subparsers(
        dest="sandbox_command", required=True, metavar="COMMAND"
    )
    serve = sandbox_commands.add_parser(
        "serve",
        help="serve the emulator until interrupted",
        description=(
            "Serve a seeded emulator of the API on loopback; prints a JSON line with url and token."
        ),
    )
    add_serve_arguments(serve)
    serve.set_defaults(run=run_serve)
