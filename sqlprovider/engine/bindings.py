"""Write a statement's bound parameters into its text, for the engine's own key queries only.

The join prefetch (`engine.joins`) derives from the statement's SQL a small query listing the
keys an outer table supplies, keeping the conditions on that table. A condition holding a
placeholder (`d.name LIKE ?`) could not be kept, since the key query runs without bindings:
the prefetch then read the keys of every Droplet, and the same SQL made five times the calls
with a parameter as with a literal. Inlining the bound values as SQL literals makes both the
same text, so they plan the same calls. The user's statement itself still runs with its
bindings; only the derived key query reads this text.

Placeholders are numbered as SQLite numbers them (`?` is one past the largest so far, `?NNN` is
NNN, a repeated `:name` keeps its number), outside quotes and comments. A value that has no
exact literal form (a NUL character, a lone surrogate, an integer beyond 64 bits, an
infinity) leaves the text as it was: the prefetch then reads more, never anything wrong.
Pure, with no imports from sqlprovider.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: A quoted string or name, a comment, or a placeholder (the only tokens that matter here).
_TOKEN = re.compile(
    r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?"""
    r"""|--[^\n]*|/\*.*?(?:\*/|\Z)"""
    r"""|(?P<number>\?[0-9]*)|(?P<name>[:@$][A-Za-z_][A-Za-z0-9_$]*)""",
    re.DOTALL,
)


def inline_bindings(sql: str, bindings: Sequence[Any] | Mapping[str, Any] | None) -> str | None:
    """`sql` with every placeholder replaced by its bound value as a literal, or None.

    None means there was nothing to inline, or a value cannot be written exactly (the caller
    keeps the original text).

    Example: ``inline_bindings("... WHERE d.name LIKE ? AND d.id = :id", ...)`` with
    ``("web%",)`` gives ``... WHERE d.name LIKE 'web%' ...`` (a mapping binds names).
    """
    if bindings is None or isinstance(bindings, (str, bytes)):
        return None
    out: list[str] = []
    last = 0
    highest = 0
    numbers: dict[str, int] = {}
    found = False
    for match in _TOKEN.finditer(sql):
        number, name = match.group("number"), match.group("name")
        if number is None and name is None:
            continue
        found = True
        if number is not None:
            index = int(number[1:]) if len(number) > 1 else highest + 1
        else:
            index = numbers.setdefault(name, highest + 1)
        highest = max(highest, index)
        value = _bound(bindings, index, name)
        literal = _literal(value) if value is not _UNBOUND else None
        if literal is None:
            return None
        out += [sql[last : match.start()], literal]
        last = match.end()
    if not found:
        return None
    out.append(sql[last:])
    return "".join(out)


_UNBOUND = object()


def _bound(bindings: Sequence[Any] | Mapping[str, Any], index: int, name: str | None) -> Any:
    if isinstance(bindings, Mapping):
        if name is None:
            return _UNBOUND
        return bindings.get(name[1:], _UNBOUND)
    if 1 <= index <= len(bindings):
        return bindings[index - 1]
    return _UNBOUND


def _literal(value: Any) -> str | None:
    """The SQL literal SQLite reads back as exactly `value`, or None when there is none."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value) if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        if math.isnan(value):
            return "NULL"  # SQLite binds NaN as NULL
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        if "\x00" in value:
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "X'" + bytes(value).hex() + "'"
    return None
