"""The compliance recipes: data in the spec, each answering with rows against the sandbox.

The sandbox runs on the real clock here, because recipes ask about "the last 7 days"; its
estate is seeded so that every recipe has an answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.errors import SpecError
from sqlprovider.sandbox import Sandbox
from sqlprovider.spec import load_providers
from tests.conftest import UNLIMITED, connect_to

REPO = Path(__file__).resolve().parents[2]
(PROVIDER,) = load_providers()
RECIPES = PROVIDER.recipes


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox on the real clock (recipes compare with SQLite's 'now')."""
    with Sandbox(seed=11, droplets=40, clusters=8, now=int(time.time()), **UNLIMITED) as sb:
        yield sb


@pytest.fixture(scope="module")
def con(sandbox: Sandbox) -> Iterator[sqlprovider.Connection]:
    connection = connect_to(sandbox)
    yield connection
    connection.close()


def test_there_are_at_least_ten_recipes_with_distinct_names() -> None:
    assert len(RECIPES) >= 10
    assert len({r.name for r in RECIPES}) == len(RECIPES)


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_every_recipe_answers_with_rows(
    recipe: sqlprovider.spec.Recipe, con: sqlprovider.Connection
) -> None:
    cursor = con.execute(recipe.sql, recipe.defaults())
    rows = cursor.fetchall()
    assert rows, f"{recipe.name} returned no rows against the seeded sandbox"
    assert cursor.description is not None
    assert cursor.stats["requests"] >= 1
    assert cursor.warnings == []


def test_recipes_are_readable_from_sql(con: sqlprovider.Connection) -> None:
    rows = con.execute("SELECT name, parameters, sql FROM sqlprovider_recipes").fetchall()
    assert [r[0] for r in rows] == [r.name for r in RECIPES]
    by_name = {r.name: r for r in RECIPES}
    for name, parameters, sql in rows:
        assert sql == by_name[name].sql
        assert {k: v["default"] for k, v in json.loads(parameters).items()} == (
            by_name[name].defaults()
        )


def test_cli_lists_shows_and_runs_a_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipes"]) == 0
    listing = capsys.readouterr().out
    assert all(r.name in listing for r in RECIPES)
    assert main(["recipes", "old_snapshots_cost"]) == 0
    shown = capsys.readouterr().out
    assert ":rate = 0.06" in shown
    assert "FROM digitalocean.compute.snapshots" in shown
    args = ["recipes", "orphaned_snapshots", "--run", "--sandbox", "--format", "csv"]
    assert main([*args, "--param", "rate=1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("id,name,resource_type,resource_id")
    assert len(out) > 1


def test_cli_refuses_unknown_recipes_and_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipes", "nope"]) == 1
    assert "orphaned_snapshots" in capsys.readouterr().err  # it lists the real ones
    assert main(["recipes", "old_snapshots_cost", "--run", "--sandbox", "-p", "age=3"]) == 1
    err = capsys.readouterr().err
    assert "no parameter 'age'" in err
    assert "days, rate" in err


def test_a_recipe_must_declare_the_parameters_its_sql_uses(tmp_path: Path) -> None:
    folder = tmp_path / "digitalocean"
    folder.mkdir()
    for path in (REPO / "provider_spec" / "digitalocean").glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())
    (folder / "recipes").mkdir()
    (folder / "recipes" / "bad.yaml").write_text(
        "recipes:\n"
        "  broken:\n"
        "    title: A broken recipe\n"
        "    question: Does the loader notice?\n"
        "    shape: nothing\n"
        "    parameters:\n"
        "      unused: {default: 1, description: Never used.}\n"
        "    sql: SELECT * FROM digitalocean.compute.snapshots WHERE size_gigabytes > :size\n"
    )
    with pytest.raises(SpecError) as info:
        load_providers(tmp_path)
    text = str(info.value)
    assert "uses :size, which the recipe does not declare" in text
    assert "the SQL never uses :unused" in text
