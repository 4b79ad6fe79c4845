"""`sqlprovider docs build [--check] [--out docs]`: the table reference pages.

`build` writes `docs/tables/`, `docs/recipes.md` and the README's table list from the provider
specification; `--check` writes nothing and
exits 1 naming the pages that differ, which is how CI keeps the committed pages in step with
the spec.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlprovider.errors import InterfaceError
from sqlprovider.spec import load_providers
from sqlprovider.spec.docs import differing_pages, spec_pages, write_pages
from sqlprovider.spec.guides import readme_tables, splice_readme


def register(commands: Any) -> None:
    """Add `docs build` to the `sqlprovider` subcommands."""
    docs = commands.add_parser(
        "docs", help="generate the table reference pages", description="Table reference pages."
    )
    docs_commands = docs.add_subparsers(dest="docs_command", required=True, metavar="COMMAND")
    build = docs_commands.add_parser(
        "build",
        help="write docs/tables/ from the provider spec",
        description="Write one page per table, and an index, from the provider spec.",
    )
    build.add_argument("--out", default="docs", help="output folder (default docs)")
    build.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming the pages that differ from the spec",
    )
    build.add_argument("--spec-dir", help="another provider_spec folder")
    build.add_argument(
        "--readme",
        help="README whose table list (between its markers) is regenerated too "
        "(default: README.md beside the output folder, when there is one)",
    )
    build.set_defaults(run=run_build)


def run_build(args: argparse.Namespace) -> int:
    """Write (or check) the pages and the README's table list; 0 when they match the spec."""
    pages = spec_pages(args.spec_dir)
    out = Path(args.out)
    readme = Path(args.readme) if args.readme else out.resolve().parent / "README.md"
    readme_text = readme.read_text(encoding="utf-8") if readme.is_file() else None
    wanted = None
    if readme_text is not None:
        try:
            wanted = splice_readme(readme_text, readme_tables(load_providers(args.spec_dir)))
        except ValueError as exc:
            raise InterfaceError(f"{readme}: {exc}") from None
    if args.check:
        differing = differing_pages(pages, out)
        if wanted is not None and wanted != readme_text:
            differing.append(str(readme))
        if differing:
            sys.stderr.write(
                f"{len(differing)} generated page(s) differ from the spec: "
                + ", ".join(str(out / d) for d in differing)
                + "\nrun `sqlprovider docs build` and commit the result\n"
            )
            return 1
        sys.stdout.write(f"{len(pages)} pages in {out} match the spec\n")
        return 0
    changed = write_pages(pages, out)
    if wanted is not None and wanted != readme_text:
        readme.write_text(wanted, encoding="utf-8")
        sys.stdout.write(f"  {readme} (its table list)\n")
    sys.stdout.write(f"{len(pages)} pages in {out}; {len(changed)} changed\n")
    for relative in changed:
        sys.stdout.write(f"  {out / relative}\n")
    return 0
