"""Imports go one way: errors <- spec <- http <- options <- engine, sql <- dbapi <- integrations <- cli.

The sandbox stands alone.

Each module's imports are read with `ast`, so an arrow against the table fails here, not in
review. Imports made inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "sqlprovider"

#: For each part of the package, the parts it may import (itself always allowed).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "types": set(),
    "spec": {"errors"},
    "http": {"errors", "spec"},
    "options": {"errors", "spec", "http"},
    "engine": {"errors", "spec", "http", "options"},
    "sql": {"errors", "spec"},
    "dbapi": {"errors", "spec", "http", "options", "engine", "sql", "types"},
    "__init__": {"errors", "types", "options", "engine", "dbapi"},
    "integrations": {"errors", "spec", "options", "sql", "dbapi", "types", "__init__"},
    "__main__": {"cli"},
    "cli": {
        "errors",
        "spec",
        "http",
        "options",
        "engine",
        "sql",
        "dbapi",
        "integrations",
        "sandbox",
        "types",
        "__init__",
    },
    "sandbox": set(),
}


def part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def imported_parts(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "sqlprovider":
            names = [f"sqlprovider.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            if name == "sqlprovider":
                found.add("__init__")
            elif name.startswith("sqlprovider."):
                found.add(name.split(".")[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layers(path: Path) -> None:
    part = part_of(path)
    assert part in ALLOWED, f"{part}: add it to the layer table in this test"
    wrong = imported_parts(path) - ALLOWED[part] - {part}
    assert not wrong, f"{path.relative_to(PACKAGE)} imports {sorted(wrong)} against the layers"


def test_the_table_catches_a_wrong_arrow(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from sqlprovider.dbapi import connect\n")
    assert imported_parts(module) - ALLOWED["engine"] == {"dbapi"}


def test_public_names_match_all() -> None:
    import sqlprovider

    public = {n for n in vars(sqlprovider) if not n.startswith("_") or n == "__version__"}
    modules = {n for n, v in vars(sqlprovider).items() if type(v).__name__ == "module"}
    assert set(sqlprovider.__all__) == public - modules - {"annotations"}


def test_the_tables_do_not_import_the_session_that_registers_them() -> None:
    # engine/session.py imports engine/vtable.py; the tables see it through a Protocol.
    tree = ast.parse((PACKAGE / "engine" / "vtable.py").read_text(encoding="utf-8"))
    names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "sqlprovider.engine.vtable" in _imports_of(PACKAGE / "engine" / "session.py")
    assert "sqlprovider.engine.session" not in names


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
