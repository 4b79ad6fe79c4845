"""Make `digitalocean.compute.droplets` legal SQL by quoting it, without touching anything else.

SQLite reads `a.b.c` as a syntax error (it knows only `schema.table`), so every entry point the
project controls splices known three-part names into one quoted identifier,
`"digitalocean.compute.droplets"`. The splice works on sqlglot's tokens and keeps the rest of
the statement byte for byte: regenerating SQL from a parse tree would change it (see the
engine notes). Two-part `service.resource` names are accepted too where they are unambiguous.
Imports `spec` only.
"""

from __future__ import annotations

from collections.abc import Iterable


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
        from sqlglot.dialects.sqlite import SQLite  # imported only when a name may need it
        from sqlglot.errors import TokenError
        from sqlglot.tokenizer_core import TokenType

        try:
            tokens = SQLite().tokenize(sql)
        except TokenError:
            # An unclosed quote: quote the names before it, so SQLite reports the quote rather
            # than a misleading 'near ".": syntax error' at the first three-part name.
            cut = max(sql.rfind("'"), sql.rfind('"'))
            return self.rewrite(sql[:cut]) + sql[cut:] if cut > 0 else sql
        edits: list[tuple[int, int, str]] = []
        i = 0
        while i < len(tokens):
            if tokens[i].token_type == TokenType.COMMAND and i + 1 < len(tokens):
                # sqlglot keeps the rest of EXPLAIN (and other commands) as one text token.
                rest = tokens[i + 1]
                start = sql.find(rest.text, tokens[i].end + 1)
                if rest.token_type == TokenType.STRING and start >= 0:
                    edits.append((start, start + len(rest.text), self.rewrite(rest.text)))
                i += 2
                continue
            match = self._match(tokens, i)
            if match is None:
                i += 1
                continue
            length, name = match
            start = _start(sql, tokens[i])
            end = _end(sql, tokens[i + length - 1])
            edits.append((start, end, f'"{name}"'))
            i += length
        for start, end, text in reversed(edits):
            sql = sql[:start] + text + sql[end:]
        return sql

    def _match(self, tokens: list, i: int) -> tuple[int, str] | None:  # type: ignore[type-arg]
        if i > 0 and tokens[i - 1].text == ".":
            return None
        for length, names in ((5, self._full), (3, self._short)):
            window = tokens[i : i + length]
            if len(window) < length or any(t.text != "." for t in window[1::2]):
                continue
            if len(tokens) > i + length and tokens[i + length].text == ".":
                continue
            name = ".".join(t.text.lower() for t in window[::2])
            if name in names:
                return length, names[name]
        return None


def _start(sql: str, token: object) -> int:
    start: int = token.start  # type: ignore[attr-defined]
    return start - 1 if start > 0 and sql[start - 1] in '"`[' else start


def _end(sql: str, token: object) -> int:
    end: int = token.end + 1  # type: ignore[attr-defined]
    return end + 1 if end < len(sql) and sql[end] in '"`]' else end
