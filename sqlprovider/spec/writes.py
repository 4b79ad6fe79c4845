"""Read a resource's `writes:` block (what UPDATE and INSERT send) into the frozen model.

A write is declared, never coded: the request (verb, path), the columns a statement may set,
the transitions that choose which body to send for a row change, the checks that validate
values before anything is sent, and how to confirm a lost answer or wait for the result::

    writes:
      update:
        method: POST
        path: /v2/droplets/{droplet_id}/actions
        records: action
        settable: [backup_enabled]
        transitions:
          - {action: disable_backups, before: {backup_enabled: true},
             after: {backup_enabled: false}, body: {type: disable_backups}}

Problems are appended with their key path, like the rest of the loader. Imports `spec.model`
and `spec.write_model`.
"""

from __future__ import annotations

import re
from typing import Any, Literal, cast

from sqlprovider.spec.model import HTTP_VERBS, Column, HttpVerb, Operation
from sqlprovider.spec.write_model import Check, Confirm, Transition, Wait, Write

_WRITE_KEYS = {
    "method",
    "path",
    "records",
    "settable",
    "required",
    "transitions",
    "action",
    "body",
    "checks",
    "answer_id",
    "confirm",
    "wait",
    "makes_stale",
}
_TRANSITION_KEYS = {"action", "before", "after", "changed", "body"}
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def load_writes(
    raw: Any, columns: list[Column], spot: str, problems: list[str]
) -> tuple[Write, ...]:
    """The writes declared under `writes:` (keys `update` and `insert`)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        problems.append(f"{spot}.writes: must map update/insert to a write")
        return ()
    names = {c.name for c in columns}
    writes = []
    for key, body in raw.items():
        where = f"{spot}.writes.{key}"
        if key not in ("update", "insert"):
            problems.append(f"{where}: only update and insert can be declared")
            continue
        if not isinstance(body, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        writes.append(_load_write(key.upper(), body, names, where, problems))
    return tuple(writes)


def _load_write(
    sql_verb: str, body: dict[str, Any], names: set[str], where: str, problems: list[str]
) -> Write:
    for key in sorted(set(body) - _WRITE_KEYS):
        problems.append(f"{where}: unknown key '{key}' (known: {', '.join(sorted(_WRITE_KEYS))})")
    verb = str(body.get("method", "POST")).upper()
    if verb not in HTTP_VERBS or verb == "GET":
        problems.append(f"{where}.method: must be POST, PUT, PATCH or DELETE, not {verb!r}")
        verb = "POST"
    path = str(body.get("path", ""))
    if not path.startswith("/"):
        problems.append(f"{where}.path: must start with /")
    _known(_PLACEHOLDER.findall(path), names, f"{where}.path", problems)
    settable = _names(body.get("settable"), names, f"{where}.settable", problems)
    if not settable:
        problems.append(f"{where}.settable: lists the columns a statement may set")
    required = _names(body.get("required"), names, f"{where}.required", problems)
    if sql_verb == "INSERT":
        transitions = [
            _transition(
                {"action": body.get("action"), "body": body.get("body")},
                names,
                f"{where}",
                problems,
                allow_before=False,
            )
        ]
        if "transitions" in body:
            problems.append(f"{where}.transitions: an insert has one action and body instead")
    else:
        raw = body.get("transitions")
        if not isinstance(raw, list) or not raw:
            problems.append(f"{where}.transitions: an update needs at least one transition")
            raw = []
        transitions = [
            _transition(t, names, f"{where}.transitions[{i}]", problems, allow_before=True)
            for i, t in enumerate(raw)
        ]
    checks = [
        _check(c, names, f"{where}.checks[{i}]", problems)
        for i, c in enumerate(body.get("checks") or [])
    ]
    confirm = _confirm(body.get("confirm"), names, f"{where}.confirm", problems)
    wait = _wait(body.get("wait"), f"{where}.wait", problems)
    return Write(
        sql_verb=cast(Literal["INSERT", "UPDATE"], sql_verb),
        operation=Operation(
            cast(HttpVerb, verb), path, tuple(str(body.get("records", "")).split("."))
        ),
        settable=settable,
        required=required,
        transitions=tuple(transitions),
        checks=tuple(checks),
        answer_id=str(body.get("answer_id", "id")),
        confirm=confirm,
        wait=wait,
        makes_stale=tuple(str(p) for p in body.get("makes_stale") or ()),
    )


def _transition(
    raw: Any, names: set[str], where: str, problems: list[str], *, allow_before: bool
) -> Transition:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        raw = {}
    if allow_before:
        for key in sorted(set(raw) - _TRANSITION_KEYS):
            problems.append(f"{where}: unknown key '{key}'")
    action = raw.get("action")
    if not isinstance(action, str) or not action:
        problems.append(f"{where}.action: names the change (such as enable_backups)")
        action = ""
    before = _conditions(raw.get("before"), names, f"{where}.before", problems)
    after = _conditions(raw.get("after"), names, f"{where}.after", problems)
    changed = _names(raw.get("changed"), names, f"{where}.changed", problems)
    if raw.get("body") is None:
        problems.append(f"{where}.body: the JSON body to send")
    _known(_references(raw.get("body")), names, f"{where}.body", problems)
    return Transition(action, before, after, changed, raw.get("body"))


def _check(raw: Any, names: set[str], where: str, problems: list[str]) -> Check:
    if not isinstance(raw, dict) or not {"column", "table", "values"} <= set(raw):
        problems.append(f"{where}: needs column, table and values")
        return Check("", "", "")
    _known([str(raw["column"])], names, f"{where}.column", problems)
    match = raw.get("match") or {}
    _known([str(v) for v in match.values()], names, f"{where}.match", problems)
    return Check(
        column=str(raw["column"]),
        table=str(raw["table"]),
        values=str(raw["values"]),
        match=tuple((str(k), str(v)) for k, v in match.items()),
    )


def _confirm(raw: Any, names: set[str], where: str, problems: list[str]) -> Confirm | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not {"path", "records", "match", "started"} <= set(raw):
        problems.append(f"{where}: needs path, records, match and started")
        return None
    _known(_PLACEHOLDER.findall(str(raw["path"])), names, f"{where}.path", problems)
    return Confirm(
        str(raw["path"]),
        tuple(str(raw["records"]).split(".")),
        str(raw["match"]),
        str(raw["started"]),
    )


def _wait(raw: Any, where: str, problems: list[str]) -> Wait | None:
    if raw is None:
        return None
    keys = {"path", "records", "status", "done", "failed"}
    if not isinstance(raw, dict) or not keys <= set(raw):
        problems.append(f"{where}: needs {', '.join(sorted(keys))}")
        return None
    if "{id}" not in str(raw["path"]):
        problems.append(f"{where}.path: must hold {{id}}, the created record's id")
    return Wait(
        str(raw["path"]),
        tuple(str(raw["records"]).split(".")),
        str(raw["status"]),
        tuple(str(v) for v in raw["done"]),
        tuple(str(v) for v in raw["failed"]),
    )


def _conditions(
    raw: Any, names: set[str], where: str, problems: list[str]
) -> tuple[tuple[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        problems.append(f"{where}: must map columns to values")
        return ()
    _known(list(raw), names, where, problems)
    return tuple((str(k), v) for k, v in raw.items())


def _names(raw: Any, names: set[str], where: str, problems: list[str]) -> tuple[str, ...]:
    listed = tuple(str(v) for v in raw or ())
    _known(listed, names, where, problems)
    return listed


def _known(listed: Any, names: set[str], where: str, problems: list[str]) -> None:
    for name in listed:
        if name not in names:
            problems.append(f"{where}: '{name}' is not a column")


def _references(template: Any) -> list[str]:
    """The columns a body template refers to (`$column` strings)."""
    if isinstance(template, str):
        return [template[1:]] if template.startswith("$") else []
    if isinstance(template, dict):
        return [name for value in template.values() for name in _references(value)]
    if isinstance(template, list):
        return [name for value in template for name in _references(value)]
    return []
