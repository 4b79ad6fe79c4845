"""The generated table docs, the CLI's help, and the spec's example queries.

The committed `docs/tables/` must equal what the spec produces; every subcommand answers
`--help`; every example query the docs show runs against the sandbox and returns rows.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.main import build_parser, main
from sqlprovider.spec import docs as docgen
from sqlprovider.spec import guides, load_providers
from sqlprovider.spec.record import replace

REPO = Path(__file__).resolve().parents[1]
PROVIDERS = load_providers()
RESOURCES = [r for p in PROVIDERS for r in p.resources()]
EXAMPLES = [
    pytest.param(example.sql, id=f"{resource.name}-{i}")
    for resource in RESOURCES
    for i, example in enumerate(resource.examples)
]


def test_committed_docs_match_the_spec() -> None:
    differing = docgen.differing_pages(docgen.spec_pages(), REPO / "docs")
    assert differing == [], "run `sqlprovider docs build` and commit docs/tables/"


def test_readme_lists_every_table_as_the_spec_does() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert guides.splice_readme(readme, guides.readme_tables(PROVIDERS)) == readme, (
        "run `sqlprovider docs build` to regenerate the README's table list"
    )
    for resource in RESOURCES:
        assert f"| `{resource.qualified_name}` |" in readme


def test_recipes_page_shows_every_recipe() -> None:
    page = (REPO / "docs" / "recipes.md").read_text(encoding="utf-8")
    for provider in PROVIDERS:
        for recipe in provider.recipes:
            assert f"## {recipe.name}" in page
            assert recipe.question in page


def test_every_resource_has_a_page_listing_every_column_and_method() -> None:
    pages = docgen.build_pages(PROVIDERS)
    assert len(pages) == len(RESOURCES) + 2  # the index and the recipes
    for resource in RESOURCES:
        page = pages[f"tables/{docgen.page_name(resource)}"]
        for heading in ("## Overview", "## Fields", "## Methods", "## Parameters", "## SELECT"):
            assert heading in page, (resource.name, heading)
        assert f"| Id | `{resource.qualified_name}` |" in page
        for column in resource.columns:
            assert f"| `{column.name}` |" in page
        for method in resource.methods:
            assert f"`GET {method.path}`" in page
        for example in resource.examples:
            assert example.sql.strip() in page
        assert f"({docgen.page_name(resource)})" in pages["tables/index.md"]


def test_no_table_cell_is_empty_in_descriptions() -> None:
    for text in docgen.build_pages(PROVIDERS).values():
        for line in text.splitlines():
            if line.startswith("| `"):
                cells = [c.strip() for c in line.strip("|").split(" | ")]
                assert all(cells[:-1]), line  # only the Notes column may be blank


def test_hidden_and_key_columns_are_marked() -> None:
    page = docgen.render_resource(
        next(r for r in RESOURCES if r.qualified_name == "digitalocean.compute.droplet_backups")
    )
    assert "| `droplet_id` | integer | INTEGER |" in page
    assert "required key |" in page
    assert "| `raw` | json | JSON | The whole API record" in page
    assert "hidden |" in page


def test_a_missing_description_is_refused() -> None:
    resource = RESOURCES[0]
    column = resource.columns[0]
    broken = replace(resource, columns=(replace(column, description=" "),))
    with pytest.raises(ValueError, match="no description"):
        docgen.render_resource(broken)


def test_check_names_changed_missing_and_stale_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "docs"
    assert main(["docs", "build", "--out", str(out)]) == 0
    assert main(["docs", "build", "--check", "--out", str(out)]) == 0
    (out / "tables" / "compute.droplets.md").write_text("edited by hand\n", encoding="utf-8")
    (out / "tables" / "databases.backups.md").unlink()
    (out / "tables" / "compute.gone.md").write_text("stale\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["docs", "build", "--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    for name in ("compute.droplets.md", "databases.backups.md", "compute.gone.md"):
        assert name in err
    assert "index.md" not in err
    assert main(["docs", "build", "--out", str(out)]) == 0
    assert not (out / "tables" / "compute.gone.md").exists()
    assert main(["docs", "build", "--check", "--out", str(out)]) == 0


def test_docgen_reads_only_the_spec() -> None:
    tree = ast.parse((REPO / "sqlprovider" / "spec" / "docs.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.startswith("sqlprovider")}
    assert "sqlprovider.spec" in ours
    assert all(name == "sqlprovider.spec" or name.startswith("sqlprovider.spec.") for name in ours)


def _command_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += _command_paths(sub, (*prefix, name))
    return paths


COMMANDS = _command_paths(build_parser())


def test_the_optional_commands_are_registered() -> None:
    assert ("docs", "build") in COMMANDS
    assert ("shell",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "sqlprovider")
def test_every_command_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: sqlprovider")
    assert len(out.splitlines()) > 3


@pytest.mark.parametrize("sql", EXAMPLES)
def test_every_example_runs_against_the_sandbox(sql: str, con: sqlprovider.Connection) -> None:
    cursor = con.execute(sql)
    rows = cursor.fetchall()
    assert cursor.description is not None
    assert all(len(row) == len(cursor.description) for row in rows)
    assert cursor.stats["requests"] >= 1
    # An example that answers nothing shows nothing: the seeded sandbox has an answer for each.
    assert rows, f"the example returned no rows against the sandbox: {sql}"


def test_examples_exist_for_every_resource() -> None:
    assert all(r.examples for r in RESOURCES)
