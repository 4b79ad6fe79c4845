"""Read `provider_spec/<provider>/*.yaml` into the frozen model, checking every rule on the way.

One `provider.yaml` per provider holds what its resources share; every other YAML file is one
service. The loader reports all problems at once (file and key path each) in one `SpecError`,
so a spec author fixes a file in one pass. A resource's parameters, methods and columns are
read by `spec.resource_parts`, its writes by `spec.writes`. Imports only `spec.*` and `errors`.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
from typing import Any

from sqlprovider.errors import SpecError
from sqlprovider.spec.cache import YamlSyntaxError, parse_yaml
from sqlprovider.spec.checks import check_cross_references, check_resource, check_writes
from sqlprovider.spec.model import AccountInfo, Example, Pagination, Provider, Resource, Service
from sqlprovider.spec.recipes import load_recipes
from sqlprovider.spec.resource_parts import (
    ProviderContext,
    load_columns,
    load_method,
    load_parameter,
    pagination_parameters,
    report_unknown_keys,
    required_text,
    typed_map_key,
)
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
    name = required_text(head, "provider", where, problems)
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
    context = ProviderContext(name, pagination, str(not_found_id) if not_found_id else None)
    services = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name != "provider.yaml":
            services.append(_load_service(path, context, problems))
    provider = Provider(
        name=name,
        description=required_text(head, "description", where, problems),
        api_url=required_text(head, "api_url", where, problems).rstrip("/"),
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


def _load_service(path: Path, context: ProviderContext, problems: list[str]) -> Service:
    data = _read_yaml(path, problems)
    where = path.name
    name = required_text(data, "service", where, problems)
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
        description=required_text(data, "description", where, problems),
        resources=tuple(resources),
    )


def _load_resource(
    context: ProviderContext,
    service: str,
    name: str,
    body: dict[str, Any],
    spot: str,
    problems: list[str],
) -> Resource:
    pagination = context.pagination
    report_unknown_keys(body, _RESOURCE_KEYS, spot, problems)
    parameters = [
        load_parameter(p_name, p_body or {}, f"{spot}.parameters.{p_name}", problems)
        for p_name, p_body in (body.get("parameters") or {}).items()
    ]
    methods = [
        load_method(m_name, m_body or {}, context, f"{spot}.methods.{m_name}", problems)
        for m_name, m_body in (body.get("methods") or {}).items()
    ]
    if not methods:
        problems.append(f"{spot}: needs at least one method")
    if any(m.paginated for m in methods):
        parameters += pagination_parameters(pagination)
    columns = load_columns(body.get("columns") or {}, parameters, spot, problems)
    methods = [typed_map_key(m, columns, f"{spot}.methods.{m.name}", problems) for m in methods]
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
        description=required_text(body, "description", spot, problems),
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
