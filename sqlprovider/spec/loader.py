"""Read `provider_spec/<provider>/*.yaml` into the frozen model, checking every rule on the way.

One `provider.yaml` per provider holds what its resources share; every other YAML file is one
service. The loader reports all problems at once (file and key path each) in one `SpecError`,
so a spec author fixes a file in one pass. Imports only `spec.model` and `errors`.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

from sqlprovider.errors import SpecError
from sqlprovider.spec.cache import YamlSyntaxError, parse_yaml
from sqlprovider.spec.checks import check_cross_references, check_resource, check_writes
from sqlprovider.spec.model import (
    RAW_COLUMN,
    SQLITE_TYPES,
    AccountInfo,
    Column,
    ColumnType,
    EmptyAnswer,
    Example,
    Match,
    Method,
    Pagination,
    Parameter,
    ParameterType,
    Provider,
    Resource,
    Service,
)
from sqlprovider.spec.recipes import load_recipes
from sqlprovider.spec.writes import load_writes

SPEC_DIR_ENV = "SQLPROVIDER_SPEC_DIR"
#: The resource package a wheel ships provider_spec/ as (pyproject.toml maps it).
_SPEC_PACKAGE = "sqlprovider.provider_spec"

_RESOURCE_KEYS = {
    "description",
    "identity",
    "parameters",
    "methods",
    "columns",
    "examples",
    "error_hints",
    "writes",
}
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


def default_spec_dir() -> Path:
    """Where the specs live: `$SQLPROVIDER_SPEC_DIR`, else the copy shipped in the package.

    A wheel ships `provider_spec/` as the resource package `sqlprovider.provider_spec`, found
    with importlib.resources; a source checkout without an install (or an editable install whose
    import hook does not map it) has it beside the package, at the top of the checkout.
    """
    configured = os.environ.get(SPEC_DIR_ENV)
    if configured:
        return Path(configured)
    try:
        shipped = importlib.resources.files(_SPEC_PACKAGE)
    except ModuleNotFoundError:
        shipped = None
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "provider_spec"


def load_providers(spec_dir: Path | str | None = None) -> tuple[Provider, ...]:
    """Load every provider under `spec_dir` (one sub-folder each).

    Raises:
        SpecError: listing every problem found in every file; a missing or unreadable spec
            folder or file is one, named by its path.
    """
    root = Path(spec_dir) if spec_dir is not None else default_spec_dir()
    try:
        folders = sorted(p for p in root.iterdir() if (p / "provider.yaml").is_file())
    except OSError as exc:
        raise SpecError([f"{root}: cannot read the spec folder ({_reason(exc)})"]) from exc
    if not folders:
        raise SpecError([f"{root}: no <provider>/provider.yaml found"])
    problems: list[str] = []
    providers = [_load_provider(folder, problems) for folder in folders]
    if problems:
        raise SpecError(problems)
    return tuple(p for p in providers if p is not None)


def _reason(exc: OSError) -> str:
    """`No such file or directory`, `Permission denied`...: the OS's words, without the path."""
    return exc.strerror or type(exc).__name__


def _read_yaml(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = _reason(exc) if isinstance(exc, OSError) else f"not UTF-8 text ({exc.reason})"
        problems.append(f"{path}: cannot read ({reason})")
        return {}
    try:
        data = parse_yaml(text)
    except YamlSyntaxError as exc:
        problems.append(f"{path.name}: not valid YAML: {exc}")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path.name}: the top level must be a mapping")
        return {}
    return data


def _load_provider(folder: Path, problems: list[str]) -> Provider | None:
    head = _read_yaml(folder / "provider.yaml", problems)
    where = "provider.yaml"
    name = _text(head, "provider", where, problems)
    paging = head.get("pagination") or {}
    pagination = Pagination(
        page_param=str(paging.get("page_param", "page")),
        per_page_param=str(paging.get("per_page_param", "per_page")),
        max_per_page=int(paging.get("max_per_page", 100)),
        next_link=tuple(str(paging.get("next_link", "links.pages.next")).split(".")),
        total=tuple(str(paging.get("total", "meta.total")).split(".")),
    )
    # Only a 404 carrying the API's own error id means "no such object" (None: any 404).
    not_found_id = head.get("not_found_id")
    context = _Context(name, pagination, str(not_found_id) if not_found_id else None)
    services = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name != "provider.yaml":
            services.append(_load_service(path, context, problems))
    provider = Provider(
        name=name,
        description=_text(head, "description", where, problems),
        api_url=_text(head, "api_url", where, problems).rstrip("/"),
        api_url_env=str(head.get("api_url_env", "")),
        token_env=tuple(head.get("token_env") or ()),
        pagination=pagination,
        services=tuple(services),
        account_info=_account_info(head.get("account_info"), problems),
        recipes=load_recipes(folder, _read_yaml, problems),
        rate_limits=_rate_limits(head.get("rate_limits"), where, problems),
        scopes=_scopes(head.get("scopes"), where, problems),
    )
    check_cross_references(provider, problems)
    check_writes(provider, problems)
    return provider


def _account_info(entry: Any, problems: list[str]) -> AccountInfo | None:
    """The provider's `account_info:` call (whose token is it), if declared."""
    if entry is None:
        return None
    keys = ("path", "team_name", "team_uuid")
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(k), str) and entry.get(k) for k in keys
    ):
        problems.append("provider.yaml: account_info needs path, team_name and team_uuid (text)")
        return None
    return AccountInfo(
        path=entry["path"],
        team_name=tuple(entry["team_name"].split(".")),
        team_uuid=tuple(entry["team_uuid"].split(".")),
    )


def _rate_limits(raw: Any, where: str, problems: list[str]) -> tuple[tuple[int, float], ...]:
    """`rate_limits: [{requests: 250, seconds: 60}, ...]` as (requests, seconds) pairs (none
    when absent: the client then paces only by what the API's headers say)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: rate_limits must list {{requests, seconds}} windows")
        return ()
    windows = []
    for index, item in enumerate(raw):
        spot = f"{where}: rate_limits[{index}]"
        if not isinstance(item, dict) or set(item) != {"requests", "seconds"}:
            problems.append(f"{spot}: must be a mapping of exactly requests and seconds")
            continue
        requests, seconds = item["requests"], item["seconds"]
        if not isinstance(requests, int) or isinstance(requests, bool) or requests < 1:
            problems.append(f"{spot}.requests: must be an integer >= 1")
        elif not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
            problems.append(f"{spot}.seconds: must be a number > 0")
        else:
            windows.append((requests, float(seconds)))
    return tuple(windows)


def _scopes(raw: Any, where: str, problems: list[str]) -> dict[str, tuple[str, ...]]:
    """`scopes: {read: [a, b], write: [c]}`: what a token needs for each kind of request."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{where}: scopes must map read/write to lists of scope names")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for action, names in raw.items():
        if action not in ("read", "write"):
            problems.append(f"{where}: scopes.{action}: unknown action (read, write)")
        elif not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(f"{where}: scopes.{action}: must be a list of scope names")
        else:
            out[action] = tuple(names)
    return out


@dataclass(frozen=True)
class _Context:
    """What every resource of a provider inherits from provider.yaml."""

    provider: str
    pagination: Pagination
    not_found_id: str | None


def _load_service(path: Path, context: _Context, problems: list[str]) -> Service:
    data = _read_yaml(path, problems)
    where = path.name
    name = _text(data, "service", where, problems)
    if name and name != path.stem:
        problems.append(f"{where}: service '{name}' must live in a file named {name}.yaml")
    resources = []
    for resource_name, body in (data.get("resources") or {}).items():
        spot = f"{where}: resources.{resource_name}"
        if not isinstance(body, dict):
            problems.append(f"{spot}: must be a mapping")
            continue
        resources.append(_load_resource(context, name, resource_name, body, spot, problems))
    if not resources:
        problems.append(f"{where}: declares no resources")
    return Service(
        name=name,
        description=_text(data, "description", where, problems),
        resources=tuple(resources),
    )


def _load_resource(
    context: _Context,
    service: str,
    name: str,
    body: dict[str, Any],
    spot: str,
    problems: list[str],
) -> Resource:
    pagination = context.pagination
    _unknown_keys(body, _RESOURCE_KEYS, spot, problems)
    parameters = [
        _load_parameter(p_name, p_body or {}, f"{spot}.parameters.{p_name}", problems)
        for p_name, p_body in (body.get("parameters") or {}).items()
    ]
    methods = [
        _load_method(m_name, m_body or {}, context, f"{spot}.methods.{m_name}", problems)
        for m_name, m_body in (body.get("methods") or {}).items()
    ]
    if not methods:
        problems.append(f"{spot}: needs at least one method")
    if any(m.paginated for m in methods):
        parameters += _pagination_parameters(pagination)
    columns = _load_columns(body.get("columns") or {}, parameters, spot, problems)
    methods = [_typed_map_key(m, columns, f"{spot}.methods.{m.name}", problems) for m in methods]
    examples = [
        Example(
            description=str(e.get("description", "")), sql=" ".join(str(e.get("sql", "")).split())
        )
        for e in body.get("examples") or []
        if isinstance(e, dict)
    ]
    if not examples or any(not e.sql for e in examples):
        problems.append(f"{spot}.examples: needs at least one example, each with sql")
    resource = Resource(
        provider=context.provider,
        service=service,
        name=name,
        description=_text(body, "description", spot, problems),
        methods=tuple(methods),
        parameters=tuple(parameters),
        columns=tuple(columns),
        examples=tuple(examples),
        identity=_identity(body.get("identity"), spot, problems),
        writes=load_writes(body.get("writes"), columns, spot, problems),
        error_hints={
            int(k): " ".join(str(v).split()) for k, v in (body.get("error_hints") or {}).items()
        },
    )
    check_resource(resource, spot, problems)
    return resource


def _identity(value: Any, spot: str, problems: list[str]) -> tuple[str, ...]:
    """`identity: id` or `identity: [database_cluster_uuid, created_at]` as a tuple."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    problems.append(f"{spot}.identity: must be a column name or a list of column names")
    return ()


def _pagination_parameters(pagination: Pagination) -> list[Parameter]:
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


def _load_parameter(name: str, body: dict[str, Any], spot: str, problems: list[str]) -> Parameter:
    _unknown_keys(body, _PARAMETER_KEYS, spot, problems)
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
        description=_text(body, "description", spot, problems),
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
    _unknown_keys(raw, {"column", "as"}, spot, problems)
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


def _load_method(
    name: str, body: dict[str, Any], context: _Context, spot: str, problems: list[str]
) -> Method:
    _unknown_keys(body, _METHOD_KEYS, spot, problems)
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
        _unknown_keys(item, _EMPTY_ON_KEYS, where, problems)
        status = item.get("status")
        if not isinstance(status, int) or not 400 <= status < 500:
            problems.append(f"{where}.status: a 4xx status, not {status!r}")
            continue
        if item.get("id") is None and item.get("message") is None:
            problems.append(f"{where}: needs id or message, so that only that answer matches")
            continue
        notice = _text(item, "notice", where, problems)
        rules.append(
            EmptyAnswer(
                status,
                None if item.get("id") is None else str(item["id"]),
                None if item.get("message") is None else str(item["message"]),
                notice,
            )
        )
    return rules


def _typed_map_key(method: Method, columns: list[Column], spot: str, problems: list[str]) -> Method:
    """Give a method's `map_key` the type of the column that reads that field."""
    if method.map_key is None:
        return method
    column = next((c for c in columns if c.path == (method.map_key,)), None)
    if column is None:
        problems.append(f"{spot}.map_key: no column reads the field '{method.map_key}'")
        return method
    kind: Literal["integer", "string"] = "integer" if column.type == "integer" else "string"
    return replace(method, map_key_type=kind)


def _load_columns(
    declared: dict[str, Any], parameters: list[Parameter], spot: str, problems: list[str]
) -> list[Column]:
    by_parameter = {p.name: p for p in parameters}
    columns = []
    for name, body in declared.items():
        where = f"{spot}.columns.{name}"
        body = body or {}
        _unknown_keys(body, _COLUMN_KEYS, where, problems)
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
                description=_text(body, "description", where, problems),
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


def _text(data: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: '{key}' is required text")
        return ""
    return " ".join(value.split())


def _unknown_keys(body: dict[str, Any], allowed: set[str], spot: str, problems: list[str]) -> None:
    for key in sorted(set(body) - allowed):
        problems.append(f"{spot}: unknown key '{key}' (known: {', '.join(sorted(allowed))})")
