"""The specification as ordinary SQL tables, plus the accounting of the last statement.

BI tools, scripts and the shell read which tables exist, their columns and which parameters
each needs from `sqlprovider_services`, `sqlprovider_resources`, `sqlprovider_columns`,
`sqlprovider_parameters`, `sqlprovider_methods` and `sqlprovider_recipes` (the compliance
recipes of the spec); `sqlprovider_stats` shows the API work of
the previous statement; `sqlprovider_accounts` and `sqlprovider_account_errors` the accounts;
`sqlprovider_cache_clear()` empties the response cache.
Imports `spec` and `engine.session`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import apsw

from sqlprovider.engine.account_tables import ERROR_COLUMNS, AccountsTable, error_rows
from sqlprovider.engine.computed_rows import ComputedRowsCursor, Row
from sqlprovider.engine.session import Session
from sqlprovider.spec import Provider, Recipe, Resource

#: Columns of `sqlprovider_changes`, one row per call of the last write sent or
#: previewed (the rows are `Writer.change_rows`).
CHANGE_COLUMNS = [
    "batch",
    "table_name",
    "key",
    "action",
    "method",
    "path",
    "body",
    "status",
    "action_id",
    "attempts",
    "error",
]


class StaticTable:
    """An eponymous read-only table whose rows a function computes at each scan."""

    def __init__(self, columns: Sequence[str], rows: Callable[[], list[Row]]) -> None:
        self._schema = "CREATE TABLE x(" + ", ".join(columns) + ")"
        self._rows = rows

    def Connect(self, *args: Any) -> tuple[str, StaticTable]:  # noqa: N802
        """Declare the columns."""
        return self._schema, self

    Create = Connect

    def Disconnect(self) -> None:  # noqa: N802
        """Nothing to release."""

    def BestIndex(self, constraints: Any, orderbys: Any) -> None:  # noqa: N802
        """Consume nothing: SQLite filters these small tables itself."""
        return None

    def Open(self) -> ComputedRowsCursor:  # noqa: N802
        """A cursor over a fresh copy of the rows."""
        return ComputedRowsCursor(lambda _index_number: self._rows())


def install_metadata(connection: apsw.Connection, session: Session, provider: Provider) -> None:
    """Register the metadata tables and functions on `connection`."""
    tables: dict[str, tuple[Sequence[str], Callable[[], list[Row]]]] = {
        "sqlprovider_services": (
            ["provider", "service", "description"],
            lambda: [(provider.name, s.name, s.description) for s in provider.services],
        ),
        "sqlprovider_resources": (
            [
                "provider",
                "service",
                "name",
                "table_name",
                "description",
                "required_keys",
                "paginated",
            ],
            lambda: [_resource_row(r) for r in provider.resources()],
        ),
        "sqlprovider_columns": (
            [
                "table_name",
                "position",
                "name",
                "type",
                "description",
                "hidden",
                "is_key",
                "required",
            ],
            lambda: [row for r in provider.resources() for row in _column_rows(r)],
        ),
        "sqlprovider_parameters": (
            [
                "table_name",
                "name",
                "location",
                "type",
                "required",
                "exact",
                "constraint_text",
                "description",
            ],
            lambda: [row for r in provider.resources() for row in _parameter_rows(r)],
        ),
        "sqlprovider_methods": (
            [
                "table_name",
                "method",
                "http",
                "path",
                "required_params",
                "optional_params",
                "sql_verb",
                "paginated",
            ],
            lambda: [row for r in provider.resources() for row in _method_rows(r)],
        ),
        "sqlprovider_recipes": (
            ["name", "title", "question", "shape", "parameters", "sql"],
            lambda: [_recipe_row(r) for r in provider.recipes],
        ),
        "sqlprovider_stats": (
            ["name", "value"],
            lambda: list(session.last_stats().items()),
        ),
        "sqlprovider_changes": (CHANGE_COLUMNS, lambda: session.writer.change_rows()),
        "sqlprovider_account_errors": (list(ERROR_COLUMNS), lambda: error_rows(session)),
    }
    for name, (columns, rows) in tables.items():
        table = StaticTable(columns, rows)
        connection.create_module(name, table, eponymous_only=True, read_only=True)  # type: ignore[arg-type]

    connection.create_module(
        "sqlprovider_accounts",
        AccountsTable(session),  # type: ignore[arg-type]
        use_bestindex_object=True,
        eponymous_only=True,
        read_only=True,
    )

    def clear_cache(*_: Any) -> int:
        return session.clear_cache()

    connection.create_scalar_function(
        "sqlprovider_cache_clear", clear_cache, 0, deterministic=False
    )


def _recipe_row(recipe: Recipe) -> Row:
    """A recipe; `parameters` is a JSON object of name to {default, description}."""
    parameters = {
        p.name: {"default": p.default, "description": p.description} for p in recipe.parameters
    }
    return (
        recipe.name,
        recipe.title,
        recipe.question,
        recipe.shape,
        json.dumps(parameters),
        recipe.sql,
    )


def _resource_row(resource: Resource) -> Row:
    return (
        resource.provider,
        resource.service,
        resource.name,
        resource.qualified_name,
        resource.description,
        ", ".join(resource.required_parameters),
        int(resource.is_paginated),
    )


def _column_rows(resource: Resource) -> list[Row]:
    required = set(resource.required_parameters)
    return [
        (
            resource.qualified_name,
            position,
            column.name,
            column.sqlite_type,
            column.description,
            int(column.hidden),
            int(column.parameter is not None),
            int(column.name in required),
        )
        for position, column in enumerate(resource.columns)
    ]


def _parameter_rows(resource: Resource) -> list[Row]:
    required = set(resource.required_parameters)
    rows = []
    for p in resource.parameters:
        bounds = []
        if p.minimum is not None:
            bounds.append(f">= {p.minimum}")
        if p.maximum is not None:
            bounds.append(f"<= {p.maximum}")
        if p.enum:
            bounds.append("in (" + ", ".join(p.enum) + ")")
        if p.format:
            bounds.append(p.format)
        rows.append(
            (
                resource.qualified_name,
                p.name,
                p.location,
                p.type,
                int(p.name in required),
                int(p.exact),
                " and ".join(bounds) or None,
                p.description,
            )
        )
    return rows


def _method_rows(resource: Resource) -> list[Row]:
    required = set(resource.required_parameters)
    rows = []
    for m in resource.methods:
        optional = [
            p.name for p in resource.parameters if p.name in m.query or (p.role and m.paginated)
        ]
        rows.append(
            (
                resource.qualified_name,
                m.name,
                m.verb,
                m.path,
                ", ".join(m.path_params),
                ", ".join(n for n in optional if n not in required),
                m.sql_verb,
                int(m.paginated),
            )
        )
    for w in resource.writes:
        op = w.operation
        rows.append(
            (
                resource.qualified_name,
                w.sql_verb.lower(),
                op.verb,
                op.path,
                ", ".join(op.path_params),
                ", ".join(w.settable),
                w.sql_verb,
                0,
            )
        )
    return rows
