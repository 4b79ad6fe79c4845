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
        used = any(parameter.name in m.params for m in resource.methods) or parameter.role
        if not used:
            problems.append(f"{spot}.parameters.{parameter.name}: no method sends it")
    if resource.identity and resource.identity not in {c.name for c in resource.columns}:
        problems.append(f"{spot}.identity: '{resource.identity}' is not a column")
    if len({c.name for c in resource.columns}) != len(resource.columns):
        problems.append(f"{spot}.columns: names must be unique")


def check_cross_references(provider: Provider, problems: list[str]) -> None:
    """Every `values_from` names a real column of some resource."""
    known = {f"{r.qualified_name}.{c.name}" for r in provider.resources() for c in r.columns}
    for resource in provider.resources():
        for parameter in resource.parameters:
            for source in parameter.values_from:
                if source not in known:
                    problems.append(
                        f"{resource.service}.yaml: resources.{resource.name}.parameters."
                        f"{parameter.name}.values_from: no column {source}"
                    )
