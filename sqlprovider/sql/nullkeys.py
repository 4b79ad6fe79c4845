"""Refuse `key = NULL` on the API's key columns, which would quietly return no rows.

`WHERE droplet_id = NULL` is valid SQL that matches nothing, so a user asking "are my backups
there?" would read an empty answer as "no backups". The same holds for `droplet_id IN (NULL)`,
and for `droplet_id IS NULL` on a table read without an outer join (an API object always has
its key). This check finds those conditions in the statement's text, before SQLite runs it, and
raises `InvalidParameterError` with an example of a value to give instead.

Only the AND-ed conditions of WHERE and ON are looked at, so `droplet_id = 1 OR droplet_id =
NULL` and the anti-join `LEFT JOIN ... WHERE b.droplet_id IS NULL` stay legal. Text sqlglot
cannot parse is let through: SQLite reports its own error. Imports `spec` and `errors`.
"""

from __future__ import annotations

from typing import Any

from sqlprovider.errors import InvalidParameterError
from sqlprovider.spec import Provider


def check_null_keys(sql: str, provider: Provider) -> None:
    """Raise when `sql` compares a key column of a provider table with a literal NULL.

    Raises:
        InvalidParameterError: the statement would match no row because a key is NULL.
    """
    if "null" not in sql.lower():
        return
    import sqlglot  # imported only when the text could hold such a condition
    from sqlglot import exp

    try:
        trees = sqlglot.parse(sql, read="sqlite")
    except sqlglot.errors.SqlglotError:
        return
    keys = _key_columns(provider)
    for tree in trees:
        for select in tree.find_all(exp.Select) if tree is not None else ():
            _check_select(select, keys)


def _key_columns(provider: Provider) -> dict[str, dict[str, str]]:
    """Table name -> {key column -> example literal} for every path parameter's column."""
    out: dict[str, dict[str, str]] = {}
    for resource in provider.resources():
        path_params = {p for m in resource.methods for p in m.path_params}
        for column in resource.columns:
            if column.parameter in path_params and not column.hidden:
                example = resource.parameter(column.parameter).example
                literal = repr(example) if isinstance(example, str) else str(example or "...")
                out.setdefault(resource.qualified_name.lower(), {})[column.name] = literal
    return out


def _check_select(select: Any, keys: dict[str, dict[str, str]]) -> None:
    from sqlglot import exp

    sources: dict[str, str] = {}  # alias -> qualified table name
    from_ = select.args.get("from") or select.args.get("from_")
    joins = select.args.get("joins") or []
    for item in ([from_.this] if from_ is not None else []) + [j.this for j in joins]:
        if isinstance(item, exp.Table):
            table = _resolve(".".join(part.name for part in item.parts).lower(), keys)
            if table is not None:
                sources[item.alias_or_name.lower()] = table
    if not sources:
        return
    outer = any(j.side for j in joins)
    conditions: list[tuple[Any, bool]] = []
    where = select.args.get("where")
    if where is not None:
        conditions += [(c, True) for c in _conjuncts(where.this)]
    for join in joins:
        if join.args.get("on") is not None:
            conditions += [(c, False) for c in _conjuncts(join.args["on"])]
    for condition, in_where in conditions:
        column, form = _null_test(condition, allow_is=in_where and not outer)
        found = None if column is None else _owner(column, sources, keys)
        if found is not None:
            table, name = found
            raise InvalidParameterError(
                f"{name} {form} matches no row of {table}: the API has no object without a "
                f"{name}. Give a value instead, for example {name} = {keys[table][name]}.",
                table=table,
                column=name,
            )


def _resolve(name: str, keys: dict[str, dict[str, str]]) -> str | None:
    """The qualified table a typed name stands for (full, service.resource or resource)."""
    if name in keys:
        return name
    endings = [t for t in keys if t.endswith("." + name)]
    return endings[0] if len(endings) == 1 else None


def _conjuncts(condition: Any) -> list[Any]:
    from sqlglot import exp

    if isinstance(condition, exp.And):
        return [c.unnest() for c in condition.flatten()]
    return [condition.unnest()]


def _null_test(condition: Any, *, allow_is: bool) -> tuple[Any, str]:
    """The column of `col = NULL`, `col IN (NULL, ...)` or `col IS NULL`, and the form found."""
    from sqlglot import exp

    if isinstance(condition, exp.EQ):
        left, right = condition.this, condition.expression
        for mine, other in ((left, right), (right, left)):
            if isinstance(mine, exp.Column) and isinstance(other, exp.Null):
                return mine, "= NULL"
    if isinstance(condition, exp.In) and isinstance(condition.this, exp.Column):
        values = condition.expressions
        if values and all(isinstance(v, exp.Null) for v in values):
            return condition.this, "IN (NULL)"
    if (
        allow_is
        and isinstance(condition, exp.Is)
        and isinstance(condition.this, exp.Column)
        and isinstance(condition.expression, exp.Null)
    ):
        return condition.this, "IS NULL"
    return None, ""


def _owner(
    column: Any, sources: dict[str, str], keys: dict[str, dict[str, str]]
) -> tuple[str, str] | None:
    """(table, key column) when `column` is a key column of one of the statement's tables."""
    name = column.name.lower()
    qualifier = column.table.lower()
    if qualifier:
        table = sources.get(qualifier)
        return (table, name) if table is not None and name in keys[table] else None
    owners = [t for t in sources.values() if name in keys[t]]
    return (owners[0], name) if len(owners) == 1 else None
