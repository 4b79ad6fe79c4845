"""Find, in a statement's SQL, which table supplies the key of a keyed table in a join.

SQLite runs `policies p JOIN droplet_backups b ON b.droplet_id = p.droplet_id` as a nested
loop: b's Filter is called once per row of p, one Droplet at a time. To fetch those Droplets in
parallel instead, the engine needs the whole set of keys up front. This module derives, from
the SQL text, a small query that computes that set: `SELECT DISTINCT p.droplet_id FROM ... p
WHERE <the conditions that involve p alone>`. Running it is safe: it reads only what the outer
loop reads anyway (the statement's memo serves both), and prefetching only fills the memo, so
the results are exactly those of the plain nested loop. When the source is one of the API's
tables, the query also returns each key's `account`, so that the key is looked up only with the
token of the account whose row supplied it (and an `account` pinned on the keyed table pins the
source's too).

Pure: sqlglot in, strings out. Imports nothing else from sqlprovider.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import cast

import sqlglot
from sqlglot import exp

logging.getLogger("sqlglot").setLevel(logging.ERROR)


@dataclass(frozen=True)
class KeySource:
    """A query that lists the key values a keyed table will be asked for.

    Attributes:
        table: the keyed table (qualified name, lower case).
        column: its key column, such as ``droplet_id``.
        source: the table the values come from (lower case).
        query: SQL returning the distinct values, one per row (with the account beside each
            when `by_account`).
        by_account: whether the query's second column names the account of each key.
    """

    table: str
    column: str
    source: str
    query: str
    by_account: bool = False


@functools.lru_cache(maxsize=512)
def key_sources(
    sql: str, keyed: frozenset[tuple[str, str]], tables: frozenset[str] = frozenset()
) -> tuple[KeySource, ...]:
    """Every key source found in `sql` for the (table, key column) pairs in `keyed`.

    A source among `tables` (the API's tables, which have an `account` column) gets a query
    that returns the account of each key too.

    A keyed table that appears more than once in the statement gets none: its Filter calls
    could not be told apart.
    """
    try:
        trees = sqlglot.parse(sql, read="sqlite")
    except sqlglot.errors.SqlglotError:
        return ()
    found: list[KeySource] = []
    for tree in trees:
        if tree is None:
            continue
        counts: dict[str, int] = {}
        for table in tree.find_all(exp.Table):
            counts[_name(table)] = counts.get(_name(table), 0) + 1
        for select in tree.find_all(exp.Select):
            found.extend(_in_select(select, keyed, counts, tables))
    return tuple(found)


def _in_select(
    select: exp.Select,
    keyed: frozenset[tuple[str, str]],
    counts: dict[str, int],
    tables: frozenset[str],
) -> list[KeySource]:
    sources = _sources(select)
    if not sources or _is_limited(select):
        return []
    conditions = _conditions(select)
    found = []
    for alias, table in sources.items():
        name = _name(table)
        if counts.get(name, 0) != 1:
            continue
        for keyed_name, column in keyed:
            if keyed_name != name:
                continue
            for condition, _ in conditions:
                other = _equated_column(condition, alias, column)
                if other is None or other.table not in sources or other.table == alias:
                    continue
                source = _name(sources[other.table])
                by_account = source in tables
                query = _key_query(
                    sources[other.table], other, conditions, alias, column, by_account
                )
                if query is not None:
                    found.append(KeySource(name, column, source, query, by_account))
                break
    return found


def _sources(select: exp.Select) -> dict[str, exp.Table]:
    """The plain tables in FROM and JOIN, by alias (or name)."""
    tables: dict[str, exp.Table] = {}
    from_ = select.args.get("from") or select.args.get("from_")
    items = [from_.this] if from_ is not None else []
    items += [join.this for join in select.args.get("joins") or []]
    for item in items:
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
            tables[item.alias_or_name] = item
    return tables


def _conditions(select: exp.Select) -> list[tuple[exp.Expression, str | None]]:
    """AND-ed conditions of WHERE and of every join's ON, with the alias a LEFT JOIN's ON guards."""
    found: list[tuple[exp.Expression, str | None]] = []
    where = select.args.get("where")
    if where is not None:
        found += [(c, None) for c in _conjuncts(where.this)]
    for join in select.args.get("joins") or []:
        on = join.args.get("on")
        if on is not None:
            guarded = join.this.alias_or_name if join.side in ("LEFT", "RIGHT", "FULL") else None
            found += [(c, guarded) for c in _conjuncts(on)]
    return found


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    parts = condition.flatten() if isinstance(condition, exp.And) else [condition]
    return [cast(exp.Expression, part.unnest()) for part in parts]


def _equated_column(condition: exp.Expression, alias: str, column: str) -> exp.Column | None:
    """In `alias.column = other.col` (either way round), return `other.col`."""
    if not isinstance(condition, exp.EQ):
        return None
    left, right = condition.this, condition.expression
    for mine, theirs in ((left, right), (right, left)):
        if (
            isinstance(mine, exp.Column)
            and isinstance(theirs, exp.Column)
            and mine.table == alias
            and mine.name.lower() == column
            and theirs.table
        ):
            return theirs
    return None


def _key_query(
    table: exp.Table,
    key: exp.Column,
    conditions: list[tuple[exp.Expression, str | None]],
    keyed_alias: str,
    keyed_column: str,
    by_account: bool = False,
) -> str | None:
    """`SELECT DISTINCT a.col[, a.account] FROM <table> AS a WHERE <conditions on a alone>`.

    A condition pinning the keyed column to constants (`b.droplet_id = 5`, `IN (5, 6)`) pins
    the key too, so it is kept with `a.col` in its place: only those keys are ever asked for.
    None when a condition narrows `a` but cannot be copied (it also reads a third table, or a
    bound value): the query would list keys the statement never asks for (calls that may
    even fail, such as backups of a redis cluster), so there is no prefetch.
    """
    alias = key.table
    kept = []
    for condition, guarded in conditions:
        if guarded not in (None, keyed_alias):
            continue  # another table's LEFT JOIN ON: it does not narrow `a`
        if _only_about(condition, alias):
            kept.append(condition)
        elif _reads(condition, alias) and not _reads(condition, keyed_alias):
            return None
    kept += [
        pinned
        for condition, guarded in conditions
        if guarded in (None, keyed_alias)
        and (pinned := _pinned(condition, keyed_alias, keyed_column, key)) is not None
    ]
    selected = [exp.column(key.name, table=alias)]
    if by_account:
        owner = exp.column("account", table=alias)
        selected.append(owner)
        kept += [
            pinned
            for condition, guarded in conditions
            if guarded in (None, keyed_alias)
            and (pinned := _pinned(condition, keyed_alias, "account", owner)) is not None
        ]
    source = table.copy()
    source.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    query = exp.select(*selected).distinct().from_(source)
    if kept:
        query = query.where(exp.and_(*(c.copy() for c in kept)))
    return query.sql(dialect="sqlite")


def _pinned(
    condition: exp.Expression, alias: str, column: str, key: exp.Column
) -> exp.Expression | None:
    """`alias.column = <constant>` or `IN (<constants>)` rewritten onto `key`, else None."""
    if isinstance(condition, exp.EQ):
        sides = [(condition.this, condition.expression), (condition.expression, condition.this)]
        for mine, value in sides:
            if _is_column(mine, alias, column) and _is_constant(value):
                return exp.EQ(this=key.copy(), expression=value.copy())
        return None
    if isinstance(condition, exp.In) and _is_column(condition.this, alias, column):
        values = condition.expressions
        if values and not condition.args.get("query") and all(map(_is_constant, values)):
            return exp.In(this=key.copy(), expressions=[v.copy() for v in values])
    return None


def _is_column(node: exp.Expression, alias: str, column: str) -> bool:
    return isinstance(node, exp.Column) and node.table == alias and node.name.lower() == column


def _is_constant(node: exp.Expression) -> bool:
    """A literal (or a negated one): nothing read from a table, no placeholder, no call."""
    if isinstance(node, exp.Neg):
        node = node.this
    return isinstance(node, (exp.Literal, exp.Null))


def _only_about(condition: exp.Expression, alias: str) -> bool:
    """Whether a condition reads only columns of `alias` (its own subqueries aside), with no
    bound parameter.

    `c.id IN (SELECT id FROM clusters WHERE engine = 'pg')` qualifies: the subquery is copied
    whole. A subquery that reads another table of the statement fails in the key query (no
    such column), and a failed key query only means no prefetch.
    """
    if condition.find(exp.Placeholder, exp.Parameter) is not None:
        return False
    columns = _outer_columns(condition)
    return bool(columns) and all(c.table == alias for c in columns)


def _reads(condition: exp.Expression, alias: str) -> bool:
    """Whether a condition reads a column of `alias` outside its subqueries."""
    return any(c.table == alias for c in _outer_columns(condition))


def _outer_columns(condition: exp.Expression) -> list[exp.Column]:
    """The columns of a condition that are not inside one of its subqueries."""
    detached = condition.copy()
    return [c for c in detached.find_all(exp.Column) if c.find_ancestor(exp.Select) is None]


def _is_limited(select: exp.Select) -> bool:
    """Whether a LIMIT applies to `select` or to a query around it.

    The nested loop then stops after a few outer rows: prefetching every key would send
    requests that no row needs (a `LIMIT 1` join made 300 of them).
    """
    node: exp.Expression | None = select
    while node is not None:
        if node.args.get("limit") is not None:
            return True
        node = node.parent  # type: ignore[assignment]
    return False


def _name(table: exp.Table) -> str:
    return ".".join(part.name for part in table.parts).lower()
