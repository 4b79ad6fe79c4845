"""What a synced or exported file holds: its tables, their columns and keys, the SQL to fill them.

The layout is derived from the spec alone, so a new resource is synced without new Python: every
list table (one that needs no key), plus every keyed table whose key a `values_from` table in the
set supplies (backups of every Droplet from `droplets.id`; backups of every cluster that has them,
from `clusters.id` under the parameter's `values_where`). Tables get the names `export` writes:
the three-part name with dots as underscores (`digitalocean_compute_droplet_backups`). Every
API table keeps its `account` column (the engine's hidden column naming the account a row came
from), and the primary key is `account` plus the resource's `identity`: the same Droplet id in
two accounts is two rows. Imports `dbapi`, `spec` and `errors` (and sqlglot).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlprovider.errors import InterfaceError, ProgrammingError
from sqlprovider.spec import Provider, Resource

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Column:
    """One column of a file table: its name, declared SQLite type and description."""

    name: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class Source:
    """One table to write and where its rows come from.

    Attributes:
        table: the plain SQLite name in the file.
        origin: the three-part API table, or ``query`` for a `NAME=SQL` source.
        sql: the statement that reads every row.
        description: what the table holds (from the spec, or the SQL of a query).
        columns: the columns in `sql`'s order; empty for a query until it has run.
        key: the primary-key columns (the resource's identity); empty when none is known.
    """

    table: str
    origin: str
    sql: str
    description: str
    columns: tuple[Column, ...] = ()
    key: tuple[str, ...] = ()


#: The engine's hidden column naming the account a row came from (every API table has it).
ACCOUNT = Column("account", "TEXT", "The account (as named in the config) the row came from.")


def table_name_for(qualified_name: str) -> str:
    """The plain SQLite name an API table gets in the file: dots become underscores.

    ``digitalocean.compute.droplets`` → ``digitalocean_compute_droplets``, so readers of the file
    need no quoting.
    """
    return qualified_name.replace(".", "_")


def quote(name: str) -> str:
    """`name` as a quoted SQLite identifier."""
    return '"' + name.replace('"', '""') + '"'


def default_resources(provider: Provider) -> list[Resource]:
    """Every list table, then every keyed table reachable from them, in spec order."""
    chosen = [r for r in provider.resources() if not r.required_parameters]
    names = {r.qualified_name for r in chosen}
    grew = True
    while grew:
        grew = False
        for resource in provider.resources():
            if resource.qualified_name in names:
                continue
            if _key_source(provider, resource, names) is not None:
                chosen.append(resource)
                names.add(resource.qualified_name)
                grew = True
    return chosen


def resolve(provider: Provider, given: str) -> Resource:
    """The resource for `given`: a three-part name, or `service.resource` if unambiguous."""
    lowered = given.lower()
    known = {r.qualified_name: r for r in provider.resources()}
    if lowered in known:
        return known[lowered]
    matches = [r for name, r in known.items() if name.endswith("." + lowered)]
    if len(matches) == 1:
        return matches[0]
    raise ProgrammingError(f"no API table {given!r}; known tables: {', '.join(sorted(known))}")


def resource_source(provider: Provider, resource: Resource) -> Source:
    """The table for a whole resource; a keyed one is read for every key its source lists.

    Raises:
        ProgrammingError: a keyed table whose key no list table supplies (the spec's
            `values_from` names none), so it cannot be read whole.
    """
    columns = (ACCOUNT,) + tuple(
        Column(c.name, c.sqlite_type, c.description) for c in resource.columns if not c.hidden
    )
    listed = ", ".join(f"t.{quote(c.name)}" for c in columns)
    if not resource.required_parameters:
        sql = f"SELECT {listed} FROM {quote(resource.qualified_name)} AS t"
    else:
        sql = _keyed_sql(provider, resource, listed)
    return Source(
        table=table_name_for(resource.qualified_name),
        origin=resource.qualified_name,
        sql=sql,
        description=resource.description,
        columns=columns,
        key=(ACCOUNT.name, *resource.identity) if resource.identity else (),
    )


def query_source(name: str, sql: str) -> Source:
    """A `NAME=SQL` source; its columns are learnt when it runs.

    Raises:
        InterfaceError: `name` is not a plain identifier, or starts with ``sqlite_``.
    """
    if not _NAME.match(name) or name.lower().startswith("sqlite_"):
        raise InterfaceError(
            f"table name {name!r} must be a plain identifier (letters, digits, _) "
            "not starting with sqlite_"
        )
    return Source(table=name, origin="query", sql=sql, description=f"Result of: {sql}")


def check_unique(sources: Iterable[Source], reserved: Iterable[str]) -> None:
    """Each table name once, none of them reserved (the log tables)."""
    seen: set[str] = {name.lower() for name in reserved}
    for source in sources:
        lowered = source.table.lower()
        if lowered in seen or lowered.endswith("_history"):
            raise InterfaceError(
                f"table name {source.table!r} is used twice, reserved, or ends in _history"
            )
        seen.add(lowered)


def with_result_columns(source: Source, description: Sequence[Any], rows: list[Any]) -> Source:
    """`source` with the columns a query reported (the declared type, else the first value's).

    Raises:
        ProgrammingError: two result columns share a name.
    """
    names = [d[0] for d in description]
    if len({n.lower() for n in names}) != len(names):
        raise ProgrammingError(
            f"the SQL for {source.table!r} returns two columns with one name; give them "
            "aliases with AS"
        )
    if source.columns:
        return source
    columns = tuple(
        Column(name, description[i][1] or guess_type(rows, i)) for i, name in enumerate(names)
    )
    return Source(source.table, source.origin, source.sql, source.description, columns, source.key)


def guess_type(rows: list[Any], index: int) -> str:
    """The SQLite type of the first non-NULL value in column `index` ('' if all are NULL)."""
    for row in rows:
        value = row[index]
        if value is None:
            continue
        if isinstance(value, bool | int):
            return "INTEGER"
        if isinstance(value, float):
            return "REAL"
        if isinstance(value, bytes):
            return "BLOB"
        return "TEXT"
    return ""


def _key_source(
    provider: Provider, resource: Resource, available: set[str]
) -> tuple[Resource, dict[str, str]] | None:
    """A table in `available` that supplies every required key: (it, {key: its column})."""
    by_table: dict[str, dict[str, str]] = {}
    for name in resource.required_parameters:
        for origin in resource.parameter(name).values_from:
            table, _, column = origin.rpartition(".")
            by_table.setdefault(table, {}).setdefault(name, column)
    for table, columns in by_table.items():
        if table in available and set(columns) == set(resource.required_parameters):
            return provider.resource(table), columns
    return None


def _keyed_sql(provider: Provider, resource: Resource, listed: str) -> str:
    everything = {r.qualified_name for r in provider.resources() if not r.required_parameters}
    found = _key_source(provider, resource, everything)
    if found is None:
        raise ProgrammingError(
            f"{resource.qualified_name} needs {', '.join(resource.required_parameters)} for "
            "every request and no list table supplies it (values_from in the spec), so it "
            "cannot be read whole; give it as a query that supplies the key instead"
        )
    source, columns = found
    on = " AND ".join(f"t.{quote(key)} = s.{quote(col)}" for key, col in columns.items())
    conditions = [
        _qualified(resource.parameter(key).values_where[source.qualified_name], "s")
        for key in columns
        if source.qualified_name in resource.parameter(key).values_where
    ]
    where = " WHERE " + " AND ".join(f"({c})" for c in conditions) if conditions else ""
    return (
        f"SELECT {listed} FROM {quote(source.qualified_name)} AS s "
        f"JOIN {quote(resource.qualified_name)} AS t ON {on}{where}"
    )


def _qualified(condition: str, alias: str) -> str:
    """`condition` with its bare column names qualified by `alias` (the two joined tables may
    share column names, such as created_at)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(condition, read="sqlite")
    for column in tree.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(alias))
    return str(tree.sql(dialect="sqlite"))
