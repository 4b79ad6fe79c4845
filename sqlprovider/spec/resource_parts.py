"""Read the parts of one resource of a service YAML: its parameters, methods and columns.

`spec.loader` walks the files (provider, services, resources); this module turns a resource's
`parameters:`, `methods:` and `columns:` mappings into the frozen model, adding what the spec
leaves implied (the page parameters of a paginated method, a hidden column per parameter, the
raw record column) and appending every problem, with its key path, to the loader's one list.
Imports only `spec.model` and `spec.record`.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from sqlprovider.spec.model import (
    RAW_COLUMN,
    SQLITE_TYPES,
    Column,
    ColumnType,
    EmptyAnswer,
    Match,
    Method,
    Pagination,
    Parameter,
    ParameterType,
)
from sqlprovider.spec.record import Record, replace

_PARAMETER_KEYS = {
    "in",
    "type",
    "description",
    "minimum",
    "maximum",
    "enum",
    "format",
    "exact",
    "default",
    "when_absent",
    "conflicts_with",
    "values_from",
    "values_where",
    "example",
    "matches",
    "leaves_out",
    "api_name",
}
_METHOD_KEYS = {
    "path",
    "records",
    "shape",
    "paginated",
    "query",
    "not_found",
    "batch_with",
    "empty_on",
    "map_key",
}
_EMPTY_ON_KEYS = {"status", "id", "message", "notice"}
_COLUMN_KEYS = {"type", "description", "path", "scope"}


#: The column type of a parameter that no declared column matches.
_PARAMETER_COLUMN_TYPES: dict[str, ColumnType] = {
    "integer": "integer",
    "string": "text",
    "boolean": "boolean",
}


class ProviderContext(Record):
    """What every resource of a provider inherits from provider.yaml (the loader makes one per
    provider)."""

    provider: str
    pagination: Pagination
    not_found_id: str | None


def pagination_parameters(pagination: Pagination) -> list[Parameter]:
    """The page and per_page parameters every paginated resource gets from provider.yaml."""
    return [
        Parameter(
            name=pagination.page_param,
            location="query",
            type="integer",
            minimum=1,
            role="page",
            description=(
                "Return only this page of results (1 is the first); left out, every page is read."
            ),
        ),
        Parameter(
            name=pagination.per_page_param,
            location="query",
            type="integer",
            minimum=1,
            maximum=pagination.max_per_page,
            role="per_page",
            description=(
                f"Page size, 1 to {pagination.max_per_page}; left out, the engine asks for "
                f"{pagination.max_per_page} per page."
            ),
        ),
    ]


def load_parameter(name: str, body: dict[str, Any], spot: str, problems: list[str]) -> Parameter:
    """One entry of `parameters:`: where it goes, its type, and how the engine may use it."""
    report_unknown_keys(body, _PARAMETER_KEYS, spot, problems)
    location = body.get("in")
    if location not in ("path", "query"):
        problems.append(f"{spot}.in: must be path or query, not {location!r}")
        location = "query"
    kind = body.get("type")
    if kind not in ("integer", "string", "boolean"):
        problems.append(f"{spot}.type: must be integer, string or boolean, not {kind!r}")
        kind = "string"
    fmt = body.get("format")
    if fmt not in (None, "uuid"):
        problems.append(f"{spot}.format: only uuid is known, not {fmt!r}")
        fmt = None
    when_absent = body.get("when_absent", "omit")
    # YAML reads `true` as a boolean; the API (and the docs) spell it in lower case.
    enum = tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in body.get("enum") or ())
    if when_absent not in ("omit", "each_value") or (when_absent == "each_value" and not enum):
        problems.append(f"{spot}.when_absent: must be omit, or each_value with an enum")
        when_absent = "omit"
    values_where = body.get("values_where") or {}
    if not isinstance(values_where, dict):
        problems.append(f"{spot}.values_where: must map a values_from table to a SQL condition")
        values_where = {}
    return Parameter(
        name=name,
        location=cast(Literal["path", "query"], location),
        type=cast(ParameterType, kind),
        description=required_text(body, "description", spot, problems),
        minimum=body.get("minimum"),
        maximum=body.get("maximum"),
        enum=enum,
        format=fmt,
        exact=bool(body.get("exact", True)),
        default=body.get("default"),
        when_absent=when_absent,
        conflicts_with=tuple(body.get("conflicts_with") or ()),
        values_from=tuple(body.get("values_from") or ()),
        values_where={str(k): " ".join(str(v).split()) for k, v in values_where.items()},
        example=body.get("example"),
        matches=_load_match(body.get("matches"), f"{spot}.matches", problems),
        leaves_out=_load_leaves_out(body.get("leaves_out"), f"{spot}.leaves_out", problems),
        api_name=body.get("api_name"),
    )


def _load_match(raw: Any, spot: str, problems: list[str]) -> Match | None:
    """`matches: {column: tags, as: element}`: what the filter means on a record."""
    if raw is None:
        return None
    if isinstance(raw, dict) and raw.get("as") == "api" and "column" not in raw:
        return Match("", "api")
    if not isinstance(raw, dict) or not isinstance(raw.get("column"), str):
        problems.append(
            f"{spot}: must be {{column: NAME, as: element|value|negation}} or {{as: api}}"
        )
        return None
    report_unknown_keys(raw, {"column", "as"}, spot, problems)
    kind = raw.get("as", "element")
    if kind not in ("element", "value", "negation"):
        problems.append(f"{spot}.as: must be element, value, negation or api, not {kind!r}")
        kind = "element"
    return Match(raw["column"], kind)


def _load_leaves_out(
    raw: Any, spot: str, problems: list[str]
) -> tuple[tuple[tuple[str, str], ...], ...]:
    """`leaves_out: [{type: gpus}]`: parameter values whose records the filter leaves out."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, dict) and item for item in raw):
        problems.append(f"{spot}: must be a list of {{parameter: value}} mappings")
        return ()
    return tuple(tuple((str(k), str(v)) for k, v in item.items()) for item in raw)


def load_method(
    name: str, body: dict[str, Any], context: ProviderContext, spot: str, problems: list[str]
) -> Method:
    """One entry of `methods:`: the call, where its records sit, and which answers mean none."""
    report_unknown_keys(body, _METHOD_KEYS, spot, problems)
    path = str(body.get("path", ""))
    if not path.startswith("/"):
        problems.append(f"{spot}.path: must start with /")
    shape = body.get("shape", "list")
    if shape not in ("list", "map", "object"):
        problems.append(f"{spot}.shape: must be list, map or object, not {shape!r}")
        shape = "list"
    not_found = body.get("not_found", "error")
    if not_found not in ("empty", "error"):
        problems.append(f"{spot}.not_found: must be empty or error, not {not_found!r}")
        not_found = "error"
    records = str(body.get("records", ""))
    if not records:
        problems.append(f"{spot}.records: says where the records sit in the response")
    empty_on = [EmptyAnswer(404, context.not_found_id)] if not_found == "empty" else []
    empty_on += _load_empty_on(body.get("empty_on"), f"{spot}.empty_on", problems)
    map_key = body.get("map_key")
    if map_key is not None and (shape != "map" or not isinstance(map_key, str)):
        problems.append(f"{spot}.map_key: names the field a map's keys hold, for shape: map only")
        map_key = None
    return Method(
        name=name,
        path=path,
        records=tuple(records.split(".")),
        shape=shape,
        paginated=bool(body.get("paginated", False)),
        query=tuple(body.get("query") or ()),
        not_found=not_found,
        batch_with=body.get("batch_with"),
        empty_on=tuple(empty_on),
        map_key=map_key,
    )


def _load_empty_on(raw: Any, spot: str, problems: list[str]) -> list[EmptyAnswer]:
    """`empty_on: [{status: 422, message: not supported, notice: ...}]`: answers meaning no rows."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{spot}: must be a list of {{status, id, message, notice}}")
        return []
    rules = []
    for number, item in enumerate(raw):
        where = f"{spot}[{number}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        report_unknown_keys(item, _EMPTY_ON_KEYS, where, problems)
        status = item.get("status")
        if not isinstance(status, int) or not 400 <= status < 500:
            problems.append(f"{where}.status: a 4xx status, not {status!r}")
            continue
        if item.get("id") is None and item.get("message") is None:
            problems.append(f"{where}: needs id or message, so that only that answer matches")
            continue
        notice = required_text(item, "notice", where, problems)
        rules.append(
            EmptyAnswer(
                status,
                None if item.get("id") is None else str(item["id"]),
                None if item.get("message") is None else str(item["message"]),
                notice,
            )
        )
    return rules


def typed_map_key(method: Method, columns: list[Column], spot: str, problems: list[str]) -> Method:
    """Give a method's `map_key` the type of the column that reads that field."""
    if method.map_key is None:
        return method
    column = next((c for c in columns if c.path == (method.map_key,)), None)
    if column is None:
        problems.append(f"{spot}.map_key: no column reads the field '{method.map_key}'")
        return method
    kind: Literal["integer", "string"] = "integer" if column.type == "integer" else "string"
    return replace(method, map_key_type=kind)


def load_columns(
    declared: dict[str, Any], parameters: list[Parameter], spot: str, problems: list[str]
) -> list[Column]:
    """The declared columns, then a hidden one per parameter no column names, then the raw
    record column."""
    by_parameter = {p.name: p for p in parameters}
    columns = []
    for name, body in declared.items():
        where = f"{spot}.columns.{name}"
        body = body or {}
        report_unknown_keys(body, _COLUMN_KEYS, where, problems)
        kind = body.get("type")
        if kind not in SQLITE_TYPES:
            problems.append(f"{where}.type: must be one of {sorted(SQLITE_TYPES)}, not {kind!r}")
            kind = "text"
        scope = body.get("scope", "record")
        if scope not in ("record", "response"):
            problems.append(f"{where}.scope: must be record or response, not {scope!r}")
            scope = "record"
        columns.append(
            Column(
                name=name,
                type=cast(ColumnType, kind),
                description=required_text(body, "description", where, problems),
                path=tuple(str(body.get("path", name)).split(".")),
                scope=scope,
                parameter=name if name in by_parameter else None,
            )
        )
    declared_names = {c.name for c in columns}
    for parameter in parameters:
        if parameter.name not in declared_names:
            columns.append(
                Column(
                    name=parameter.name,
                    type=_PARAMETER_COLUMN_TYPES[parameter.type],
                    description=parameter.description,
                    path=(parameter.name,),
                    hidden=True,
                    parameter=parameter.name,
                )
            )
    columns = [_with_match(c, by_parameter, columns, spot, problems) for c in columns]
    if RAW_COLUMN in declared_names:
        problems.append(f"{spot}.columns.{RAW_COLUMN}: the name is reserved for the whole record")
    columns.append(
        Column(
            name=RAW_COLUMN,
            type="json",
            description="The whole API record as JSON text; reach unmodelled fields with ->>.",
            path=(),
            hidden=True,
        )
    )
    return columns


def _with_match(
    column: Column,
    parameters: dict[str, Parameter],
    columns: list[Column],
    spot: str,
    problems: list[str],
) -> Column:
    """A parameter's column learns the record column its filter is tested against."""
    parameter = parameters.get(column.parameter or "")
    if parameter is None or parameter.matches is None or parameter.matches.kind == "api":
        return column
    where = f"{spot}.parameters.{parameter.name}.matches"
    target = next((c for c in columns if c.name == parameter.matches.column), None)
    if target is None or target.parameter is not None or target.scope != "record":
        problems.append(f"{where}: '{parameter.matches.column}' is not a record column")
        return column
    if parameter.matches.kind == "element" and target.type != "json":
        problems.append(f"{where}: as element needs a json (array) column, not {target.type}")
        return column
    if parameter.matches.kind == "negation" and target.type != "boolean":
        problems.append(f"{where}: as negation needs a boolean column, not {target.type}")
        return column
    return replace(column, matches=(parameter.matches.kind, target.path))


def required_text(data: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    """`data[key]` as one line of text; a problem (and "") when it is missing or blank."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: '{key}' is required text")
        return ""
    return " ".join(value.split())


def report_unknown_keys(
    body: dict[str, Any], allowed: set[str], spot: str, problems: list[str]
) -> None:
    """A problem for each key of `body` the vocabulary does not know (a typo is not ignored)."""
    for key in sorted(set(body) - allowed):
        problems.append(f"{spot}: unknown key '{key}' (known: {', '.join(sorted(allowed))})")
