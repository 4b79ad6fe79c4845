"""Rules that hold across a resource or the whole provider, checked after the files are read.

Each problem is appended as text naming the file and key path, so the loader can report every
problem of every file at once. Imports `spec.model` only.
"""

from __future__ import annotations

from sqlprovider.spec.model import Provider, Resource


def check_resource(resource: Resource, spot: str, problems: list[str]) -> None:
    """Methods name declared parameters, paths use path parameters, names are unique."""
    names = {p.name for p in resource.parameters}
    for method in resource.methods:
        for param in method.params:
            if param not in names:
                problems.append(
                    f"{spot}.methods.{method.name}: parameter '{param}' is not declared"
                )
        for param in method.path_params:
            if param in names and resource.parameter(param).location != "path":
                problems.append(f"{spot}.parameters.{param}: used in a path, so `in` must be path")
    for parameter in resource.parameters:
        for other in parameter.conflicts_with:
            if other not in names:
                problems.append(
                    f"{spot}.parameters.{parameter.name}.conflicts_with: unknown '{other}'"
                )
        for number, values in enumerate(parameter.leaves_out):
            where = f"{spot}.parameters.{parameter.name}.leaves_out[{number}]"
            if parameter.matches is None or parameter.exact:
                problems.append(
                    f"{where}: needs matches and exact: false, so SQLite checks those records"
                )
            for other, value in values:
                if other not in names or value not in resource.parameter(other).enum:
                    problems.append(f"{where}: {other}: {value} is not a value of a parameter")
        used = any(parameter.name in m.params for m in resource.methods) or parameter.role
        if not used:
            problems.append(f"{spot}.parameters.{parameter.name}: no method sends it")
    for method in resource.methods:
        if method.batch_with is not None:
            _check_batch(resource, method.name, method.batch_with, f"{spot}.methods", problems)
    for name in resource.identity:
        if name not in {c.name for c in resource.columns}:
            problems.append(f"{spot}.identity: '{name}' is not a column")
    if len({c.name for c in resource.columns}) != len(resource.columns):
        problems.append(f"{spot}.columns: names must be unique")


def check_cross_references(provider: Provider, problems: list[str]) -> None:
    """Every `values_from` names a real column; every `values_where` one of those tables."""
    known = {f"{r.qualified_name}.{c.name}" for r in provider.resources() for c in r.columns}
    for resource in provider.resources():
        for parameter in resource.parameters:
            for source in parameter.values_from:
                if source not in known:
                    problems.append(
                        f"{resource.service}.yaml: resources.{resource.name}.parameters."
                        f"{parameter.name}.values_from: no column {source}"
                    )
            tables = {source.rpartition(".")[0] for source in parameter.values_from}
            for table in parameter.values_where:
                if table not in tables:
                    problems.append(
                        f"{resource.service}.yaml: resources.{resource.name}.parameters."
                        f"{parameter.name}.values_where: {table} is not in values_from"
                    )


def check_writes(provider: Provider, problems: list[str]) -> None:
    """A write's checks name real tables and columns; an UPDATE's rows have an integer identity.

    The engine gives each row of an updatable table its identity as SQLite rowid, so the row an
    UPDATE changes is found again whichever join or IN list produced it.
    """
    tables = {r.qualified_name: {c.name for c in r.columns} for r in provider.resources()}
    for resource in provider.resources():
        spot = f"{resource.service}.yaml: resources.{resource.name}.writes"
        for write in resource.writes:
            where = f"{spot}.{write.sql_verb.lower()}"
            for check in write.checks:
                theirs = tables.get(check.table)
                if theirs is None:
                    problems.append(f"{where}.checks: no table {check.table}")
                    continue
                for name in (check.values, *(t for t, _ in check.match)):
                    if name not in theirs:
                        problems.append(f"{where}.checks: {check.table} has no column {name}")
            if write.sql_verb == "UPDATE":
                identity = resource.identity
                if len(identity) != 1 or resource.column(identity[0]).type != "integer":
                    problems.append(f"{where}: an updatable table needs one integer identity")


def _check_batch(resource: Resource, name: str, batch: str, spot: str, problems: list[str]) -> None:
    """`batch_with` pairs a get by one key column with a keyless list of the same records."""
    method = next(m for m in resource.methods if m.name == name)
    lists = {m.name: m for m in resource.methods if not m.path_params}
    where = f"{spot}.{name}.batch_with"
    if batch not in lists:
        problems.append(f"{where}: '{batch}' is not a method of this resource without path keys")
    if method.shape != "object" or len(method.path_params) != 1:
        problems.append(f"{where}: only a get of one record by one path key can be batched")
    elif method.path_params[0] not in {c.parameter for c in resource.columns}:
        problems.append(f"{where}: the key must be a column, to find each record in the list")
