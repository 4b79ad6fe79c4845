"""`sqlprovider recipes [NAME] [--run]`: the compliance recipes of the spec.

Without a name it lists every recipe (name and title); with one it shows the question, the
shape of the answer, the parameters with their defaults, and the SQL; `--run` runs it (with
`--param NAME=VALUE` overriding a default) on the connection the usual flags open, for example
`sqlprovider recipes orphaned_snapshots --run --sandbox`. The recipes are data in
`provider_spec/<provider>/recipes/`, also readable as `SELECT * FROM sqlprovider_recipes`.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from sqlprovider.cli.options import add_connection_arguments, open_connection
from sqlprovider.cli.output import FORMATS, render
from sqlprovider.cli.statements import Parameters
from sqlprovider.engine.attach import load_provider
from sqlprovider.errors import InterfaceError
from sqlprovider.spec import Recipe


def register(commands: Any) -> None:
    """Add `recipes` to the `sqlprovider` subcommands."""
    parser = commands.add_parser(
        "recipes",
        help="list, show or run the compliance recipes",
        description="List the compliance recipes, show one (question, shape, parameters, SQL), "
        "or run it with --run.",
    )
    parser.add_argument("name", nargs="?", help="the recipe to show (or run)")
    parser.add_argument(
        "--run", action="store_true", dest="execute", help="run the recipe instead of showing it"
    )
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --run: replace a parameter's default (repeat for several)",
    )
    parser.add_argument(
        "--format", "-f", choices=FORMATS, default="table", help="output format (default table)"
    )
    add_connection_arguments(parser)
    parser.set_defaults(run=run_recipes)


def run_recipes(args: argparse.Namespace) -> int:
    """List, show or run; errors propagate to `main`.

    Raises:
        InterfaceError: an unknown recipe or parameter, or --run without a name.
    """
    recipes = load_provider(getattr(args, "spec_dir", None)).recipes
    if args.name is None:
        if args.execute:
            raise InterfaceError("--run needs a recipe name; `sqlprovider recipes` lists them")
        width = max((len(r.name) for r in recipes), default=0)
        for recipe in recipes:
            sys.stdout.write(f"{recipe.name.ljust(width)}  {recipe.title}\n")
        return 0
    recipe = _find(recipes, args.name)
    if not args.execute:
        sys.stdout.write(describe(recipe))
        return 0
    bindings = _bindings(recipe, args.param)
    # Recipes ask about "the last 7 days" of the real clock: a sandbox behind --sandbox keeps
    # that clock too (its default is a fixed instant, for repeatable output).
    args.sandbox_now = int(time.time())
    with open_connection(args) as connection:
        cursor = connection.execute(recipe.sql, bindings)
        columns = [d[0] for d in cursor.description or ()]
        sys.stdout.write(render(args.format, columns, cursor.fetchall()))
        for warning in getattr(cursor, "warnings", ()):
            sys.stderr.write(f"warning: {warning}\n")
    return 0


def describe(recipe: Recipe) -> str:
    """The text `sqlprovider recipes NAME` prints."""
    lines = [f"{recipe.name}: {recipe.title}", "", recipe.question, "", f"Answer: {recipe.shape}"]
    if recipe.parameters:
        lines += ["", "Parameters (--run --param NAME=VALUE):"]
        lines += [f"  :{p.name} = {p.default!r}  {p.description}" for p in recipe.parameters]
    return "\n".join([*lines, "", recipe.sql, ""])


def _find(recipes: tuple[Recipe, ...], name: str) -> Recipe:
    for recipe in recipes:
        if recipe.name == name:
            return recipe
    known = ", ".join(r.name for r in recipes)
    raise InterfaceError(f"no recipe named {name!r}; the recipes are: {known}")


def _bindings(recipe: Recipe, given: list[str]) -> dict[str, Any]:
    bindings: dict[str, Any] = dict(recipe.defaults())
    parsed = Parameters.parse(given)
    if parsed.positional:
        raise InterfaceError("--param: give recipe parameters by name, e.g. --param days=30")
    for name, value in parsed.named:
        if name not in bindings:
            raise InterfaceError(
                f"recipe {recipe.name} has no parameter {name!r}; it takes: "
                + (", ".join(bindings) or "none")
            )
        bindings[name] = value
    return bindings
