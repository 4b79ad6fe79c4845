"""Every filter the API takes gives the rows SQLite would give filtering the column itself.

Derived from the spec: for each table that can be listed whole and each of its optional
parameters, the pushed-down `WHERE parameter = value` is compared with the whole table filtered
by SQLite on what the parameter means (its `matches` column, its own record column, or the
echoed value of a `when_absent: each_value` parameter), for every value the data holds plus
one it does not. A filter the API applies too narrowly (the tag filter leaves GPU Droplets out)
shows here as missing rows (issue 9, item 7).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import sqlprovider
from sqlprovider.engine.attach import load_provider
from sqlprovider.spec import Parameter, Resource

ABSENT = {"string": "no-such-value-0", "integer": 1}


def _pushable() -> Iterator[tuple[Resource, Parameter]]:
    for resource in load_provider().resources():
        required = set(resource.required_parameters)
        if required:
            continue  # nothing to compare with: the table cannot be listed without its key
        for parameter in resource.parameters:
            if parameter.role is None:
                yield resource, parameter


CASES = list(_pushable())


def _reference(resource: Resource, parameter: Parameter) -> str:
    """The SQLite condition on `t` that means what the API filter means, with `?` for the value."""
    if parameter.matches is not None:
        column = parameter.matches.column
        if parameter.matches.kind == "element":
            return f"EXISTS (SELECT 1 FROM json_each(t.{column}) WHERE value = ?)"
        if parameter.matches.kind == "negation":
            return f"+t.{column} = (? NOT IN (1, '1', 'true'))"  # the value as SQL writes true
        if parameter.matches.kind == "api":
            return ""  # only the API knows: checked as a subset of the whole list
        return f"+t.{column} = ?"
    column = next(c for c in resource.columns if c.parameter == parameter.name)
    if not column.hidden or parameter.when_absent == "each_value":
        return f"+t.{column.name} = ?"  # `+`: an expression, so SQLite keeps it for itself
    pytest.fail(
        f"{resource.qualified_name}.{parameter.name}: nothing says what this filter means on a "
        "record; declare `matches: {column: ..., as: element|value}` in its spec"
    )


def _values(
    con: sqlprovider.Connection, resource: Resource, parameter: Parameter
) -> list[str | int]:
    table = resource.qualified_name
    if parameter.enum:
        return list(parameter.enum)  # a value outside the enum is refused before any call
    values: list[str | int]
    if parameter.matches is not None and parameter.matches.kind == "element":
        sql = f"SELECT DISTINCT j.value FROM {table} t, json_each(t.{parameter.matches.column}) j"
        values = [row[0] for row in con.execute(sql).fetchall()]
    else:
        column = parameter.matches.column if parameter.matches else parameter.name
        sql = f"SELECT DISTINCT +t.{column} FROM {table} t WHERE +t.{column} IS NOT NULL"
        values = [row[0] for row in con.execute(sql).fetchall()][:8]
    assert values, f"{table}: the sandbox holds no value to filter {parameter.name} on"
    return [*values, ABSENT[parameter.type]]


def test_the_list_of_pushable_filters_comes_from_the_spec() -> None:
    names = {f"{r.qualified_name}.{p.name}" for r, p in CASES}
    assert "digitalocean.compute.droplets.tag_name" in names
    assert "digitalocean.compute.droplet_backup_policies.droplet_id" in names


@pytest.mark.parametrize(
    ("resource", "parameter"), CASES, ids=[f"{r.name}.{p.name}" for r, p in CASES]
)
def test_a_pushed_filter_gives_the_rows_sqlite_gives(
    con: sqlprovider.Connection, resource: Resource, parameter: Parameter
) -> None:
    table = resource.qualified_name
    condition = _reference(resource, parameter)
    compared = 0
    every = sorted(row[0] for row in con.execute(f"SELECT raw FROM {table}").fetchall())
    for value in _values(con, resource, parameter):
        pushed = con.execute(f"SELECT raw FROM {table} WHERE {parameter.name} = ?", (value,))
        pushed_rows = sorted(row[0] for row in pushed.fetchall())
        assert pushed.stats["requests"] + pushed.stats["cache_hits"] >= 1
        if not condition:  # a filter only the API can apply: its rows are some of the list's
            assert set(pushed_rows) <= set(every), f"{table} WHERE {parameter.name} = {value!r}"
            assert len(pushed_rows) < len(every)
            compared += len(pushed_rows)
            continue
        filtered = con.execute(f"SELECT raw FROM {table} t WHERE {condition}", (value,))
        expected = sorted(row[0] for row in filtered.fetchall())
        assert pushed_rows == expected, f"{table} WHERE {parameter.name} = {value!r}"
        compared += len(expected)
    assert compared > 0, f"{table}.{parameter.name}: no value selected any row"


def test_a_narrow_tag_filter_is_completed_with_the_gpu_droplets(
    con: sqlprovider.Connection,
) -> None:
    table = "digitalocean.compute.droplets"
    tagged = con.execute(
        f"SELECT DISTINCT j.value FROM {table} t, json_each(t.tags) j WHERE t.type = 'gpus'"
    ).fetchall()
    assert tagged, "the sandbox should hold a tagged GPU Droplet"
    tag = tagged[0][0]
    cursor = con.execute(f"SELECT type, tag_name FROM {table} WHERE tag_name = ?", (tag,))
    rows = cursor.fetchall()
    assert ("gpus", tag) in rows
    assert all(row[1] == tag for row in rows)
    # And with the conflicting `type` left to SQLite, GPU Droplets with the tag still show.
    gpus = con.execute(
        f"SELECT count(*) FROM {table} WHERE tag_name = ? AND type = 'gpus'", (tag,)
    ).fetchall()
    assert gpus[0][0] == sum(1 for row in rows if row[0] == "gpus") > 0
