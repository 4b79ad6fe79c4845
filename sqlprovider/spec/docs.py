"""Reference pages for every table, generated from the provider specification alone.

One page per resource (`tables/<service>.<resource>.md`) plus an index, laid out the way
StackQL's registry docs are: Overview, Fields, Methods, Parameters, SELECT examples. The pages
are committed; `sqlprovider docs build --check` fails when they no longer match the spec, so
the docs cannot drift from what the engine serves. Imports `spec` only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from sqlprovider.spec import Column, Method, Parameter, Provider, Resource, load_providers
from sqlprovider.spec.guides import render_recipes

#: Folder of the pages, inside the output folder.
TABLES_DIR = "tables"
#: The recipes page, beside the tables folder.
RECIPES_PAGE = "recipes.md"
_BANNER = "<!-- Generated from provider_spec/ by `sqlprovider docs build`; do not edit by hand. -->"


def page_name(resource: Resource) -> str:
    """File name of a resource's page, such as ``compute.droplet_backups.md``."""
    return f"{resource.service}.{resource.name}.md"


def build_pages(providers: Iterable[Provider]) -> dict[str, str]:
    """Every page's text, keyed by its path relative to the output folder.

    Raises:
        ValueError: a column or parameter has no description (the pages would have a hole).
    """
    providers = tuple(providers)
    pages = {f"{TABLES_DIR}/index.md": render_index(providers)}
    for provider in providers:
        for resource in provider.resources():
            pages[f"{TABLES_DIR}/{page_name(resource)}"] = render_resource(resource)
    if any(provider.recipes for provider in providers):
        pages[RECIPES_PAGE] = render_recipes(providers)
    return pages


def spec_pages(spec_dir: str | Path | None = None) -> dict[str, str]:
    """`build_pages` of the specification in `spec_dir` (default: the bundled one)."""
    return build_pages(load_providers(spec_dir))


def write_pages(pages: dict[str, str], out: Path) -> list[str]:
    """Write `pages` under `out`, delete stale pages; return the paths that changed."""
    changed = differing_pages(pages, out)
    for relative in changed:
        target = out / relative
        if relative in pages:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pages[relative], encoding="utf-8")
        else:
            target.unlink()
    return changed


def differing_pages(pages: dict[str, str], out: Path) -> list[str]:
    """Paths under `out` that are missing, different or no longer generated."""
    folder = out / TABLES_DIR
    present = {f"{TABLES_DIR}/{p.name}" for p in folder.glob("*.md")} if folder.is_dir() else set()
    present |= {r for r in pages if "/" not in r and (out / r).is_file()}
    differing = [
        relative
        for relative, text in pages.items()
        if relative not in present or (out / relative).read_text(encoding="utf-8") != text
    ]
    differing += [relative for relative in present if relative not in pages]
    return sorted(differing)


def render_index(providers: Iterable[Provider]) -> str:
    """The index page: each provider's services and their tables."""
    lines = [_BANNER, "", "# Tables", ""]
    lines.append(
        "Every table is named `provider.service.resource`; a table whose page has a Writes "
        "section also takes UPDATE or INSERT (opt-in: `connect(allow_writes=True)`), every "
        "other table is read-only. The same "
        "information is available from SQL: `SHOW SERVICES IN digitalocean`, `SHOW RESOURCES "
        "IN digitalocean.compute`, `DESCRIBE digitalocean.compute.droplets`, or the "
        "`sqlprovider_resources` and `sqlprovider_columns` tables."
    )
    for provider in providers:
        lines += ["", f"## {provider.name}", "", _cell(provider.description)]
        for service in provider.services:
            lines += ["", f"### {provider.name}.{service.name}", "", _cell(service.description), ""]
            lines += ["| Table | Description | Required keys |", "|---|---|---|"]
            for resource in service.resources:
                keys = _codes(resource.required_parameters) or "none"
                link = f"[`{resource.qualified_name}`]({page_name(resource)})"
                lines.append(f"| {link} | {_cell(resource.description)} | {keys} |")
    return "\n".join(lines) + "\n"


def render_resource(resource: Resource) -> str:
    """The page of one resource."""
    sections = [
        [_BANNER, "", f"# {resource.name}", "", _cell(resource.description)],
        _overview(resource),
        _fields(resource),
        _methods(resource),
        _parameters(resource),
        _writes(resource),
        _examples(resource),
    ]
    return "\n".join(line for section in sections for line in section) + "\n"


def _overview(resource: Resource) -> list[str]:
    keys = _codes(resource.required_parameters) or "none"
    return [
        "",
        "## Overview",
        "",
        "| | |",
        "|---|---|",
        f"| Name | `{resource.name}` |",
        f"| Type | Resource ({_kind(resource)}) |",
        f"| Id | `{resource.qualified_name}` |",
        f"| Service | `{resource.provider}.{resource.service}` |",
        f"| Required keys | {keys} |",
        f"| Row identity | {_codes(resource.identity) or 'none'} |",
    ]


def _kind(resource: Resource) -> str:
    verbs = [w.sql_verb for w in resource.writes]
    return "table that takes " + " and ".join(verbs) if verbs else "read-only table"


def _writes(resource: Resource) -> list[str]:
    """What each SQL write sends: the request, the settable columns, the transitions."""
    if not resource.writes:
        return []
    lines = [
        "",
        "## Writes",
        "",
        "Off unless the connection allows them (`connect(allow_writes=True)`, `--allow-writes`, "
        "`?allow_writes=1`); `dry_run=True` / `--dry-run` shows the calls without sending "
        "them. Every row is validated before anything is sent; the calls go out when the "
        "statement (or its transaction) commits, and `sqlprovider_changes` lists them.",
    ]
    for write in resource.writes:
        op = write.operation
        lines += [
            "",
            f"### {write.sql_verb}",
            "",
            f"Each row sends `{op.verb} {op.path}`. Settable columns: {_codes(write.settable)}."
            + (f" Required: {_codes(write.required)}." if write.required else ""),
            "",
            "| Change | When (before) | When (after) | Changed columns | Body |",
            "|---|---|---|---|---|",
        ]
        for t in write.transitions:
            before = ", ".join(f"`{k} = {_sql(v)}`" for k, v in t.before) or "any"
            after = ", ".join(f"`{k} = {_sql(v)}`" for k, v in t.after) or "any"
            body = json.dumps(t.body, separators=(", ", ": "))
            lines.append(
                f"| `{t.action}` | {before} | {after} | {_codes(t.changed) or 'any'} | "
                f"`{_cell(body)}` |"
            )
        if write.transitions and write.sql_verb == "UPDATE":
            lines += ["", "A row that matches no change is already as asked: nothing is sent."]
        lines.append("")
        for check in write.checks:
            scope = (
                " for the row's " + ", ".join(f"`{o}`" for _, o in check.match)
                if check.match
                else ""
            )
            lines.append(
                f"- `{check.column}` must be one of `{check.table}.{check.values}`{scope}."
            )
        if write.confirm is not None:
            lines.append(
                f"- A lost answer is never retried blindly: `GET {write.confirm.path}` shows "
                "whether the call started."
            )
    return lines


def _sql(value: object) -> str:
    if isinstance(value, bool):
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _fields(resource: Resource) -> list[str]:
    required = set(resource.required_parameters)
    lines = [
        "",
        "## Fields",
        "",
        "Hidden fields are left out of `SELECT *`; name them to read them or to filter on them. "
        "Key fields are sent to the API when the statement gives them with `=` or `IN`.",
        "",
        "| Name | Type | SQLite type | Description | Notes |",
        "|---|---|---|---|---|",
    ]
    for column in resource.columns:
        lines.append(
            f"| `{column.name}` | {column.type} | {column.sqlite_type} | "
            f"{_described(column.description, resource, column.name)} | "
            f"{_column_notes(resource, column, required)} |"
        )
    return lines


def _column_notes(resource: Resource, column: Column, required: set[str]) -> str:
    notes = []
    if column.hidden:
        notes.append("hidden")
    if column.parameter is not None:
        parameter = resource.parameter(column.parameter)
        if column.parameter in required:
            notes.append("required key")
        elif parameter.role:
            notes.append("pagination parameter")
        elif parameter.location == "path":
            notes.append("optional key")
        else:
            notes.append("API filter")
    return ", ".join(notes)


def _methods(resource: Resource) -> list[str]:
    lines = [
        "",
        "## Methods",
        "",
        "| Name | HTTP request | Required params | Optional params | SQL verb | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for method in resource.methods:
        optional = _optional_params(resource, method)
        lines.append(
            f"| `{method.name}` | `{method.verb} {method.path}` | "
            f"{_codes(method.path_params) or 'none'} | "
            f"{_codes(optional) or 'none'} | {method.sql_verb} | {_method_notes(method)} |"
        )
    return lines


def _optional_params(resource: Resource, method: Method) -> list[str]:
    paged = method.paginated
    sent = [p for p in resource.parameters if p.name in method.query or (p.role and paged)]
    return [p.name for p in sent if p.name not in method.path_params]


def _method_notes(method: Method) -> str:
    if method.paginated:
        notes = ["paginated"]
    else:
        notes = ["one record" if method.shape == "object" else "one request"]
    for rule in method.empty_on:
        said = f" `{rule.error_id}`" if rule.error_id else ""
        said += f' saying "{rule.message}"' if rule.message else ""
        notes.append(f"a {rule.status}{said} gives zero rows and a notice ({rule.notice})")
    if method.batch_with:
        notes.append(
            f"many keys may be answered from `{method.batch_with}` when that is fewer requests"
        )
    return ", ".join(notes)


def _parameters(resource: Resource) -> list[str]:
    lines = ["", "## Parameters", ""]
    if not resource.parameters:
        return [*lines, "This table takes no parameters."]
    required = set(resource.required_parameters)
    lines += [
        "Give a parameter in `WHERE` (`=` or `IN`) or in a join's `ON`.",
        "",
        "| Name | Location | Type | Bounds | Required | Description |",
        "|---|---|---|---|---|---|",
    ]
    for p in resource.parameters:
        lines.append(
            f"| `{p.name}` | {p.location} | {p.type} | {_bounds(p) or 'none'} | "
            f"{'required' if p.name in required else 'optional'} | "
            f"{_described(_parameter_text(p), resource, p.name)} |"
        )
    return lines


def _bounds(p: Parameter) -> str:
    bounds = [f"sent as `{p.api_name}`"] if p.api_name else []
    if p.minimum is not None:
        bounds.append(f"≥ {p.minimum}")
    if p.maximum is not None:
        bounds.append(f"≤ {p.maximum}")
    if p.enum:
        bounds.append("one of " + _codes(p.enum))
    if p.format:
        bounds.append(p.format)
    if p.default is not None:
        bounds.append(f"default {_code(str(p.default))}")
    return "; ".join(bounds)


def _parameter_text(p: Parameter) -> str:
    text = p.description
    if p.values_from:
        text += " Values can come from " + _codes(p.values_from) + "."
    if p.conflicts_with:
        text += " Cannot be combined with " + _codes(p.conflicts_with) + "."
    if p.matches is not None:
        how = "holds the value" if p.matches.kind == "element" else "equals the value"
        text += f" Selects the rows whose `{p.matches.column}` {how}."
    for values in p.leaves_out:
        given = " and ".join(f"`{name} = {value}`" for name, value in values)
        text += f" The API's filter leaves out {given}; those are listed too and checked."
    if not p.exact:
        text += " The API filters loosely; SQLite re-checks each row."
    if p.example is not None:
        text += f" Example: {_code(str(p.example))}."
    return text


def _examples(resource: Resource) -> list[str]:
    lines = ["", "## SELECT examples"]
    if not resource.examples:
        return [*lines, "", f"```sql\nSELECT * FROM {resource.qualified_name}\n```"]
    for example in resource.examples:
        lines += ["", _cell(example.description), "", "```sql", example.sql.strip(), "```"]
    return lines


def _described(text: str, resource: Resource, name: str) -> str:
    if not text.strip():
        raise ValueError(f"{resource.qualified_name}.{name} has no description in the spec")
    return _cell(text)


def _cell(text: str) -> str:
    """`text` on one line, safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`"


def _codes(names: Iterable[str]) -> str:
    return ", ".join(_code(n) for n in names)
