"""Find the records in a response body and turn each one into SQLite values.

The `policies` map becomes one record per value, a single `policy` object one record, an array
one record per item. Values become what SQLite stores: booleans 0/1, objects and arrays JSON
text, absent nested keys NULL. Imports `spec` and `errors` only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlprovider.errors import DataError, ResponseError
from sqlprovider.spec import Column, Method, Resource

#: Reads one column's value from (record, whole response, echoed parameters).
Extractor = Callable[[dict[str, Any], Any, dict[str, Any]], Any]

_MISSING = object()


def records_of(payload: Any, method: Method, where: str) -> list[dict[str, Any]]:
    """The records of one response body, whatever shape the method declares.

    A list, built whole (a page is already in memory): every record is checked before the
    first row is made, and the scan's `map` then runs over a list, in C.

    Raises:
        ResponseError: the body does not hold records where the spec says they are.
    """
    node = dig(payload, method.records)
    if node is _MISSING or node is None:
        # `{}` or `{"droplets": null}` is not an empty list: the API sends `[]` (or `{}` for a
        # map) when there is nothing, so reading it as zero rows could hide every record.
        raise _shape_error(where, method, "nothing" if node is _MISSING else "null")
    if method.shape == "list" and isinstance(node, list):
        items: list[Any] = node
    elif method.shape == "map" and isinstance(node, dict):
        if method.map_key is not None:
            return _keyed_values(node, method, where)
        items = list(node.values())
    elif method.shape == "object" and isinstance(node, dict):
        items = [node]
    else:
        raise _shape_error(where, method, type(node).__name__)
    for item in items:
        if type(item) is not dict:
            raise _shape_error(where, method, f"an item of type {type(item).__name__}")
    return items


def _keyed_values(node: dict[str, Any], method: Method, where: str) -> list[dict[str, Any]]:
    """The values of a map, each with the field `map_key` set from its key (the key is the truth:
    the record's own copy may be missing, and a row without its key would vanish from joins)."""
    field = method.map_key
    assert field is not None
    integer = method.map_key_type == "integer"
    out: list[dict[str, Any]] = []
    keep = out.append
    for key, item in node.items():
        if type(item) is not dict:
            raise _shape_error(where, method, f"an item of type {type(item).__name__}")
        value: Any = key
        if integer:
            if not (type(key) is str and key.isdigit() and key.isascii()):
                raise _shape_error(where, method, f"the map key {key[:40]!r} (not an integer id)")
            value = int(key)
        keep(item if item.get(field, _MISSING) == value else {**item, field: value})
    return out


def dig(node: Any, path: Sequence[str]) -> Any:
    """Follow a dotted path through nested objects; `_MISSING` when any step is absent."""
    for step in path:
        if not isinstance(node, dict) or step not in node:
            return _MISSING
        node = node[step]
    return node


def extractors(resource: Resource) -> list[Extractor]:
    """One value reader per column of `resource`, in column order."""
    return [_extractor(column) for column in resource.columns]


def _extractor(column: Column) -> Extractor:
    """A reader specialised for the column's source and type (this runs once per value)."""
    path = column.path
    if not path:  # the hidden `raw` column: the whole record
        return lambda record, response, echo: _ENCODE(record)
    convert = _named(_CONVERTERS[column.type], column.name)
    plain = _PLAIN[column.type]
    if column.scope == "response":
        return lambda record, response, echo: convert(dig(response, path))
    parameter = column.parameter
    if parameter is not None and column.matches is not None:
        return _matching(parameter, *column.matches, convert)
    if parameter is not None:
        key = path[0]

        def keyed(record: dict[str, Any], response: Any, echo: dict[str, Any]) -> Any:
            value = record.get(key, _MISSING) if len(path) == 1 else dig(record, path)
            return convert(echo.get(parameter) if value is _MISSING else value)

        return keyed
    if len(path) == 1:
        key = path[0]

        def top(record: dict[str, Any], response: Any, echo: dict[str, Any]) -> Any:
            value = record.get(key)
            return value if value is None or type(value) in plain else convert(value)

        return top
    outer, inner = path[0], path[1:]
    if len(inner) == 1:
        leaf = inner[0]

        def nested(record: dict[str, Any], response: Any, echo: dict[str, Any]) -> Any:
            node = record.get(outer)
            if type(node) is not dict:
                return None
            value = node.get(leaf)
            return value if value is None or type(value) in plain else convert(value)

        return nested
    return lambda record, response, echo: convert(dig(record, path))


def _matching(
    parameter: str, kind: str, target: tuple[str, ...], convert: Callable[[Any], Any]
) -> Extractor:
    """A filter parameter's column: the value asked for, on the rows that meet the filter.

    `WHERE tag_name = 'k8s'` then holds on exactly the records whose tags contain k8s, whether
    the API filtered them or the engine listed them unfiltered (GPU Droplets), and SQLite can
    check the rows the API did not.
    """

    def matched(record: dict[str, Any], response: Any, echo: dict[str, Any]) -> Any:
        wanted = echo.get(parameter)
        if wanted is None:
            return None
        found = dig(record, target)
        if kind == "element":
            hit = isinstance(found, list) and any(
                type(v) is type(wanted) and v == wanted for v in found
            )
        elif kind == "negation":
            hit = isinstance(found, bool) and found is not bool(wanted)
        else:
            hit = type(found) is type(wanted) and found == wanted
        return convert(wanted) if hit else None

    return matched


def _as_scalar(value: Any) -> Any:
    if value is _MISSING or value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return value
        raise _TooLarge(value)
    if isinstance(value, (float, str)):
        return value
    return _ENCODE(value)


class _TooLarge(Exception):
    """An integer in an answer beyond SQLite's 64-bit range (named by `_named`)."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.digits = len(str(abs(value)))


def _named(convert: Callable[[Any], Any], column: str) -> Callable[[Any], Any]:
    """`convert`, blaming the API's answer by column when a number does not fit SQLite."""

    def converted(value: Any) -> Any:
        try:
            return convert(value)
        except _TooLarge as exc:
            raise DataError(
                f"column {column}: the API answered a {exc.digits}-digit integer, beyond "
                "SQLite's 64-bit integers; the API's answer is at fault, not the query, and "
                "no partial result was returned"
            ) from None

    return converted


def _as_json(value: Any) -> Any:
    if value is _MISSING or value is None:
        return None
    return _ENCODE(value)


def _as_integer(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    return _as_scalar(value)


#: One shared compact encoder: `json.dumps` with any non-default argument builds a new encoder
#: on every call, which is measurable per value.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "integer": _as_integer,
    "real": _as_scalar,
    "text": _as_scalar,
    "timestamp": _as_scalar,
    "boolean": _as_scalar,
    "json": _as_json,
}
#: Python types a column passes to SQLite untouched (anything else goes through its converter).
#: Integers are never plain: one beyond 64 bits is an error that blames the API's answer.
_PLAIN: dict[str, frozenset[type]] = {
    "integer": frozenset(),
    "real": frozenset({float, str}),
    "text": frozenset({float, str}),
    "timestamp": frozenset({float, str}),
    "boolean": frozenset(),
    "json": frozenset(),
}


def _shape_error(where: str, method: Method, found: str) -> ResponseError:
    return ResponseError(
        f"GET {where}: expected {method.shape} records at '{'.'.join(method.records)}' but found "
        f"{found}; the API's answer did not have the documented shape.",
        status=200,
        method="GET",
        url=where,
    )


RowBuilder = Callable[[dict[str, Any], Any, dict[str, Any]], tuple[Any, ...]]


def row_builder(resource: Resource, used: frozenset[int]) -> RowBuilder:
    """One function that computes the `used` columns of a record at once (NULL elsewhere).

    It is generated as Python source so that the common columns (a key of the record, or a
    key of a nested object, looked up once for all its columns) cost a dictionary lookup and a
    type check, with no function call per value: this is the inner loop of every scan. Names
    and paths are embedded with `repr`; any other kind of column calls its reader from
    `extractors`.
    """
    readers = extractors(resource)
    namespace: dict[str, Any] = {
        "_INT_MIN": -(2**63),
        "_INT_MAX": 2**63 - 1,
        "_MISSING": _MISSING,
        "_ENCODE": _ENCODE,
    }
    lines = ["def build(r, b, e):"]
    values = []
    outers: dict[str, str] = {}
    for index, column in enumerate(resource.columns):
        if index not in used:
            values.append("None")
            continue
        value = f"v{index}"
        values.append(value)
        path = column.path
        echoed = column.parameter is not None and len(path) == 1 and column.matches is None
        inline = column.scope == "record" and (column.parameter is None or echoed)
        if not inline or not 1 <= len(path) <= 2:
            namespace[f"X{index}"] = readers[index]
            lines.append(f"    {value} = X{index}(r, b, e)")
            continue
        if echoed:  # a key column: from the record, else the value the query sent
            lines.append(f"    {value} = r.get({path[0]!r}, _MISSING)")
            lines.append(f"    if {value} is _MISSING:")
            lines.append(f"        {value} = e.get({column.parameter!r})")
        elif len(path) == 1:
            lines.append(f"    {value} = r.get({path[0]!r})")
        else:
            if path[0] not in outers:
                outers[path[0]] = f"o{len(outers)}"
                lines.append(f"    {outers[path[0]]} = r.get({path[0]!r})")
            outer = outers[path[0]]
            lines.append(
                f"    {value} = {outer}.get({path[1]!r}) if type({outer}) is dict else None"
            )
        lines += _conversion(index, column, namespace)
    lines.append(f"    return ({', '.join(values)},)")
    source = "\n".join(lines)
    exec(compile(source, f"<row builder for {resource.qualified_name}>", "exec"), namespace)
    builder: RowBuilder = namespace["build"]
    return builder


def _conversion(index: int, column: Column, namespace: dict[str, Any]) -> list[str]:
    """Source lines that turn `v<index>` into what SQLite stores for the column's type."""
    value = f"v{index}"
    if column.type == "json":
        return [f"    if {value} is not None:", f"        {value} = _ENCODE({value})"]
    namespace[f"C{index}"] = _named(_CONVERTERS[column.type], column.name)
    namespace[f"P{index}"] = _PLAIN[column.type]
    lines = []
    small_int = f"type({value}) is int and _INT_MIN <= {value} <= _INT_MAX"
    if column.type == "integer":
        keep = small_int
    elif column.type == "boolean":
        lines += [f"    if {value} is True or {value} is False:", f"        {value} = int({value})"]
        keep = small_int
    else:
        keep = f"type({value}) in P{index} or ({small_int})"
    return lines + [
        f"    if {value} is not None and not ({keep}):",
        f"        {value} = C{index}({value})",
    ]
