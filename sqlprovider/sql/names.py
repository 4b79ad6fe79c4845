"""Make `digitalocean.compute.droplets` legal SQL by quoting it, without touching anything else.

SQLite reads `a.b.c` as a syntax error (it knows only `schema.table`), so every entry point the
project controls splices known three-part names into one quoted identifier,
`"digitalocean.compute.droplets"`. The splice works on the tokens of `lexer` (names, dots,
strings and comments) and keeps the rest of the statement byte for byte: regenerating SQL from a
parse tree would change it (see the engine notes). Two-part `service.resource` names are
accepted too where they are unambiguous. Imports `sql.lexer` only.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlprovider.sql.lexer import Token, tokens


class NameRewriter:
    """Rewrites the resource names of one provider set.

    Args:
        qualified_names: three-part names such as ``digitalocean.compute.droplets``.
    """

    def __init__(self, qualified_names: Iterable[str]) -> None:
        self._full = {name.lower(): name.lower() for name in qualified_names}
        short: dict[str, list[str]] = {}
        for name in self._full:
            short.setdefault(name.split(".", 1)[1], []).append(name)
        self._short = {alias: names[0] for alias, names in short.items() if len(names) == 1}
        self._last_parts = {name.rsplit(".", 1)[1] for name in self._full}

    def rewrite(self, sql: str) -> str:
        """Return `sql` with every known dotted resource name quoted as one identifier."""
        lowered = sql.lower()
        if "." not in sql or not any(part in lowered for part in self._last_parts):
            return sql
        found = list(tokens(sql))
        edits: list[tuple[int, int, str]] = []
        i = 0
        while i < len(found):
            match = self._match(found, i)
            if match is None:
                i += 1
                continue
            length, name = match
            edits.append((found[i].start, found[i + length - 1].end, f'"{name}"'))
            i += length
        for start, end, text in reversed(edits):
            sql = sql[:start] + text + sql[end:]
        return sql

    def _match(self, found: list[Token], i: int) -> tuple[int, str] | None:
        """The number of tokens and the name of a known dotted name starting at `found[i]`."""
        if i > 0 and found[i - 1].kind == "dot":
            return None
        for length, names in ((5, self._full), (3, self._short)):
            window = found[i : i + length]
            if len(window) < length or any(t.kind != "dot" for t in window[1::2]):
                continue
            if any(t.kind != "name" for t in window[::2]):
                continue
            if len(found) > i + length and found[i + length].kind == "dot":
                continue
            name = ".".join(t.text.lower() for t in window[::2])
            if name in names:
                return length, names[name]
        return None
