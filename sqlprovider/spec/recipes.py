"""Read a provider's recipes: `provider_spec/<provider>/recipes/*.yaml`, checked like the spec.

A recipe is data (a question, the shape of its answer, named parameters with defaults, one SQL
statement), so adding one needs no Python. Problems are appended with file and key path, as
the loader reports them. Imports `spec.model`, `spec.cache` and nothing else of sqlprovider.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlprovider.spec.model import Recipe, RecipeParameter

RECIPES_DIR = "recipes"
_KEYS = {"title", "question", "shape", "parameters", "sql"}
_NAME = re.compile(r"[a-z][a-z0-9_]*")
# `:name` outside quotes; recipes do not put colons inside string literals.
_BOUND = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def load_recipes(
    folder: Path, read: Callable[[Path, list[str]], dict[str, Any]], problems: list[str]
) -> tuple[Recipe, ...]:
    """Every recipe under `folder/recipes/`, in file then file order.

    Args:
        folder: the provider's folder.
        read: reads one YAML file into a mapping (appending its problems).
        problems: where problems are appended.
    """
    recipes: list[Recipe] = []
    seen: set[str] = set()
    for path in sorted((folder / RECIPES_DIR).glob("*.yaml")):
        data = read(path, problems)
        where = f"{RECIPES_DIR}/{path.name}"
        entries = data.get("recipes")
        if not isinstance(entries, dict) or not entries:
            problems.append(f"{where}: needs a non-empty 'recipes' mapping")
            continue
        for name, body in entries.items():
            spot = f"{where}: recipes.{name}"
            if name in seen:
                problems.append(f"{spot}: another recipe has this name")
            seen.add(name)
            recipe = _load_recipe(str(name), body, spot, problems)
            if recipe is not None:
                recipes.append(recipe)
    return tuple(recipes)


def _load_recipe(name: str, body: Any, spot: str, problems: list[str]) -> Recipe | None:
    if not isinstance(body, dict):
        problems.append(f"{spot}: must be a mapping")
        return None
    if not _NAME.fullmatch(name):
        problems.append(f"{spot}: a recipe name is lower-case letters, digits and _")
    for key in sorted(set(body) - _KEYS):
        problems.append(f"{spot}: unknown key '{key}' (known: {', '.join(sorted(_KEYS))})")
    texts = {}
    for key in ("title", "question", "shape", "sql"):
        value = body.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{spot}: '{key}' is required text")
            value = ""
        texts[key] = " ".join(value.split())
    parameters = []
    for p_name, p_body in (body.get("parameters") or {}).items():
        where = f"{spot}.parameters.{p_name}"
        if not isinstance(p_body, dict) or "default" not in p_body:
            problems.append(f"{where}: needs a default (and a description)")
            continue
        default = p_body["default"]
        if isinstance(default, bool) or not isinstance(default, (str, int, float)):
            problems.append(f"{where}.default: must be a number or text")
            continue
        description = " ".join(str(p_body.get("description", "")).split())
        if not description:
            problems.append(f"{where}: 'description' is required text")
        parameters.append(RecipeParameter(str(p_name), default, description))
    used = set(_BOUND.findall(texts["sql"]))
    declared = {p.name for p in parameters}
    for missing in sorted(used - declared):
        problems.append(f"{spot}.sql: uses :{missing}, which the recipe does not declare")
    for unused in sorted(declared - used):
        problems.append(f"{spot}.parameters.{unused}: the SQL never uses :{unused}")
    return Recipe(
        name=name,
        title=texts["title"],
        question=texts["question"],
        shape=texts["shape"],
        parameters=tuple(parameters),
        sql=texts["sql"],
    )
