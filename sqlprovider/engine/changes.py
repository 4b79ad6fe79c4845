"""Turn one row change of an UPDATE or INSERT into the call the spec declares (pure).

`plan_change` validates the whole row before anything is sent: columns that cannot be set are
refused by name, values must fit their column's type and the allowed values a `Check` names,
and the first `Transition` that matches the row change decides the body. A row already in the
asked state plans no call. Imports `spec` and `errors` only (the allowed values are looked up
by the caller).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlprovider.engine.params import normalize
from sqlprovider.errors import InvalidParameterError, NotSupportedError
from sqlprovider.spec import Check, Resource, Transition, Write

#: Stands for "this column is not set by the statement" (apsw passes its own `no_change`).
UNSET: Any = object()

#: Look up the allowed values of a check for a row: `allowed(check, row)`.
Allowed = Callable[[Check, Mapping[str, Any]], frozenset[Any]]


@dataclass(frozen=True)
class Change:
    """One call a write statement will make, exactly as it will be sent.

    Attributes:
        resource: the table written to (qualified name).
        key: ``(column, value)`` of the row's identity or path keys, to report what changed.
        action: the transition's name (such as ``enable_backups``).
        verb, path, body: the request.
    """

    resource: str
    key: tuple[tuple[str, Any], ...]
    action: str
    verb: str
    path: str
    body: Any

    @property
    def key_text(self) -> str:
        """The row's key as ``droplet_id=3164444``."""
        return ", ".join(f"{name}={value}" for name, value in self.key)

    @property
    def body_json(self) -> str:
        """The body as compact JSON text (what is sent)."""
        return json.dumps(self.body, separators=(",", ":"), sort_keys=True)


def plan_change(
    resource: Resource,
    write: Write,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    allowed: Allowed,
) -> Change | None:
    """The call for one row change, or None when the row is already as asked.

    Args:
        old: the row as read (UPDATE), None for an INSERT.
        new: every column's new value, `UNSET` for the columns the statement does not set.
        allowed: the lookup of a check's allowed values.

    Raises:
        NotSupportedError: the statement sets a column this write cannot set.
        InvalidParameterError: a value that does not fit; nothing has been sent.
    """
    given = {name: value for name, value in new.items() if value is not UNSET}
    if old is None:  # INSERT: every column is passed; NULL means "not given"
        given = {name: value for name, value in given.items() if value is not None}
    refused = sorted(name for name in given if name not in write.settable)
    if refused:
        raise NotSupportedError(
            f"{resource.qualified_name}: {_verb(write)} cannot set {', '.join(refused)}; the "
            f"columns it can set are {', '.join(write.settable)}. Nothing was sent to the API."
        )
    given = {name: _typed(resource, name, value) for name, value in given.items()}
    row = {**(old or {}), **given}
    missing = [name for name in write.required if row.get(name) is None]
    if missing:
        raise InvalidParameterError(
            f"{resource.qualified_name}: INSERT needs a value for {', '.join(missing)}, for "
            f"example INSERT INTO {resource.qualified_name} ({', '.join(write.required)}) "
            "VALUES (...). Nothing was sent to the API.",
            table=resource.qualified_name,
            column=missing[0],
        )
    dropped = _check_values(resource, write, row, given, allowed)
    transition = _choose(write.transitions, old, row)
    if transition is None:
        return None
    sent = {name: (None if name in dropped else value) for name, value in row.items()}
    # An UPDATE names the row it changed; an INSERT the parent its call goes to (the new
    # record's own id is not known yet).
    key_names = (
        resource.identity if old is not None and resource.identity else write.operation.path_params
    )
    return Change(
        resource=resource.qualified_name,
        key=tuple((name, row.get(name)) for name in key_names),
        action=transition.action,
        verb=write.operation.verb,
        path=fill_path(resource, write.operation.path, row),
        body=render_body(transition.body, sent),
    )


def fill_path(resource: Resource, path: str, row: Mapping[str, Any]) -> str:
    """`path` with each `{column}` replaced by the row's value, checked and URL-quoted."""
    out = path
    for name in resource_path_params(path):
        value = row.get(name)
        try:
            parameter = resource.parameter(name)
        except KeyError:
            parameter = None
        if parameter is not None:
            value = normalize(resource, parameter, value)
        elif value is None:
            raise InvalidParameterError(
                f"{resource.qualified_name}: {name} is needed for {path}. Nothing was sent.",
                table=resource.qualified_name,
                column=name,
            )
        out = out.replace("{" + name + "}", quote(str(value), safe=""))
    return out


def resource_path_params(path: str) -> list[str]:
    """The `{placeholder}` names of a path, in order."""
    names = []
    rest = path
    while "{" in rest:
        _, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        names.append(name)
    return names


def render_body(template: Any, row: Mapping[str, Any]) -> Any:
    """The JSON body: ``$column`` strings become row values; NULLs and empty objects vanish."""
    if isinstance(template, str) and template.startswith("$"):
        return row.get(template[1:])
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            rendered = render_body(value, row)
            if rendered is not None and rendered != {}:
                out[key] = rendered
        return out
    if isinstance(template, list):
        return [render_body(value, row) for value in template]
    return template


def _verb(write: Write) -> str:
    return "UPDATE" if write.sql_verb == "UPDATE" else "INSERT"


def _typed(resource: Resource, name: str, value: Any) -> Any:
    """A set value as its column's type says, or a clear refusal."""
    if value is None:
        return None
    kind = resource.column(name).type
    if kind == "boolean":
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        wanted = "0 or 1 (false or true)"
    elif kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        wanted = "a whole number"
    elif kind == "real":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        wanted = "a number"
    else:
        if isinstance(value, str) and not any(ord(ch) < 32 for ch in value):
            return value
        wanted = "text without control characters"
    raise InvalidParameterError(
        f"{resource.qualified_name}: {name} must be {wanted}, not {value!r}. The whole "
        "statement was refused; nothing was sent to the API.",
        table=resource.qualified_name,
        column=name,
    )


def _check_values(
    resource: Resource,
    write: Write,
    row: Mapping[str, Any],
    given: Mapping[str, Any],
    allowed: Allowed,
) -> set[str]:
    """Refuse a set value that is not allowed; return kept values that no longer apply.

    A value kept from the old row that the new row does not allow (the weekday of a weekly plan
    turned daily) is left out of the body instead, so the API applies its default.
    """
    dropped = set()
    for check in write.checks:
        value = row.get(check.column)
        if value is None:
            continue
        values = allowed(check, row)
        if value in values:
            continue
        if check.column not in given:
            dropped.add(check.column)
            continue
        choices = (
            ", ".join(repr(v) for v in sorted(values, key=lambda v: (isinstance(v, str), v)))
            or "none"
        )
        where = ", ".join(f"{ours} = {row.get(ours)!r}" for _, ours in check.match)
        raise InvalidParameterError(
            f"{resource.qualified_name}: {check.column} = {value!r} is not allowed"
            + (f" when {where}" if where else "")
            + f" (allowed: {choices}, from {check.table}). The whole statement was refused; "
            "nothing was sent to the API.",
            table=resource.qualified_name,
            column=check.column,
        )
    return dropped


def _choose(
    transitions: tuple[Transition, ...], old: Mapping[str, Any] | None, row: Mapping[str, Any]
) -> Transition | None:
    for transition in transitions:
        if old is not None and not _holds(transition.before, old):
            continue
        if not _holds(transition.after, row):
            continue
        if (
            transition.changed
            and old is not None
            and all(_same(old.get(name), row.get(name)) for name in transition.changed)
        ):
            continue
        return transition
    return None


def _holds(conditions: tuple[tuple[str, Any], ...], row: Mapping[str, Any]) -> bool:
    return all(_same(row.get(name), wanted) for name, wanted in conditions)


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return value is not None and bool(value) == wanted
    return bool(value == wanted)
