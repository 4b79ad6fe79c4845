"""Split a script into statements, and bind `--param` values to the statements that use them.

`sqlprovider query "A; B"` runs A, then B, printing each result in turn, as the sqlite3 CLI
does. The split asks SQLite itself where a statement ends (`apsw.complete`), so a `;` inside a
string, a quoted name, a comment or a trigger body does not cut a statement.

Parameters: `--param VALUE` binds the next `?` of the script (statements take them in order,
each as many as it has placeholders), `--param NAME=VALUE` binds `:NAME` (or `@NAME`, `$NAME`)
wherever it appears. A value that reads as an integer or a real number is bound as one, as the
sqlite3 CLI's `.parameter set` does; quote it (`'007'`) to bind text. Imports nothing from
sqlprovider but `errors` and `spec.record`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import apsw

from sqlprovider.errors import InterfaceError
from sqlprovider.spec.record import Record

#: Quoted text and comments (skipped), and the placeholders SQLite knows.
_TOKEN = re.compile(
    r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?"""
    r"""|--[^\n]*|/\*.*?(?:\*/|\Z)"""
    r"""|(?P<number>\?[0-9]*)|(?P<name>[:@$][A-Za-z_][A-Za-z0-9_]*)""",
    re.DOTALL,
)
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_REAL = re.compile(r"^[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?$")


def split_statements(script: str) -> list[str]:
    """The statements of `script`, each with its `;`; blank or comment-only pieces dropped.

    Example: ``split_statements("SELECT 'a;b'; SELECT 2")`` is ``["SELECT 'a;b';", "SELECT 2"]``.
    """
    statements: list[str] = []
    start = 0
    for index, char in enumerate(script):
        if char == ";" and apsw.complete(script[start : index + 1]):
            statements.append(script[start : index + 1])
            start = index + 1
    statements.append(script[start:])
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(text: str) -> bool:
    """Whether `text` holds more than whitespace, comments and semicolons."""
    stripped = re.sub(r"--[^\n]*|/\*.*?(?:\*/|\Z)", "", text, flags=re.DOTALL)
    return bool(stripped.replace(";", "").strip())


class Parameters(Record):
    """The values given with `--param`: positional ones for `?`, named ones for `:name`."""

    positional: tuple[Any, ...] = ()
    named: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, given: Sequence[str]) -> Parameters:
        """Read `--param` values (`VALUE` or `NAME=VALUE`).

        Raises:
            InterfaceError: positional and named values mixed.
        """
        positional: list[Any] = []
        named: dict[str, Any] = {}
        for text in given:
            match = _NAMED.match(text)
            if match:
                named[match.group(1)] = literal(match.group(2))
            else:
                positional.append(literal(text))
        if positional and named:
            raise InterfaceError(
                "--param: give every value by position (--param 5) or every one by name "
                "(--param id=5), not both"
            )
        return cls(tuple(positional), tuple(named.items()))

    def bind(self, statements: Sequence[str]) -> list[Any]:
        """The bindings of each statement (None for a statement without placeholders).

        Raises:
            InterfaceError: a placeholder without a value, or values no statement uses.
        """
        out: list[Any] = []
        taken = 0
        names = dict(self.named)
        used: set[str] = set()
        for sql in statements:
            count, wanted = placeholders(sql)
            if names or wanted:
                missing = [n for n in wanted if n not in names]
                if missing:
                    raise InterfaceError(
                        f"--param: no value for :{missing[0]} (give --param {missing[0]}=VALUE)"
                    )
                if count > len(wanted):
                    raise InterfaceError(
                        "--param: a statement mixes ? with named parameters; give ? values "
                        "by position instead"
                    )
                used.update(wanted)
                out.append({n: names[n] for n in wanted} if wanted else None)
                continue
            if taken + count > len(self.positional):
                raise InterfaceError(
                    f"--param: the SQL has more ? placeholders than the {len(self.positional)} "
                    "value(s) given"
                )
            out.append(tuple(self.positional[taken : taken + count]) if count else None)
            taken += count
        if taken < len(self.positional):
            raise InterfaceError(
                f"--param: {len(self.positional)} value(s) given but the SQL has only {taken} "
                "? placeholder(s)"
            )
        unused = sorted(set(names) - used)
        if unused:
            raise InterfaceError(f"--param: no statement uses :{unused[0]}")
        return out


def placeholders(sql: str) -> tuple[int, list[str]]:
    """How many values `sql` binds (as SQLite numbers them) and its parameter names.

    Example: ``placeholders("SELECT ?, ?3, :id")`` is ``(4, ["id"])``.
    """
    highest = 0
    numbers: dict[str, int] = {}
    for match in _TOKEN.finditer(sql):
        number, name = match.group("number"), match.group("name")
        if number is not None:
            highest = max(highest, int(number[1:]) if len(number) > 1 else highest + 1)
        elif name is not None and name[1:] not in numbers:
            highest += 1
            numbers[name[1:]] = highest
    return highest, list(numbers)


def literal(text: str) -> Any:
    """A `--param` value: an integer, a real, or text (quoted in single quotes to force it)."""
    if _INTEGER.match(text):
        number = int(text)
        if -(2**63) <= number < 2**63:
            return number
        return text
    if _REAL.match(text):
        return float(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text
