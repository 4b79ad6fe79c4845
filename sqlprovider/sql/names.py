"""Table names: one resolver for every entry point, and the rewrite that makes them legal SQL.

A DigitalOcean table may be written three ways wherever a table is named (SELECT and other
statements, DESCRIBE/SHOW METHODS, the shell's .describe and .schema, SQLAlchemy reflection):
whole (`digitalocean.compute.droplets`), without the provider (`compute.droplets`), or by the
resource alone (`droplets`), the shorter forms only while they name one table. `NameResolver` is
that rule, and the "did you mean" a name that is not known (or is ambiguous) gets.

SQLite reads `a.b.c` as a syntax error (it knows only `schema.table`), so `NameRewriter` splices
the names into one quoted identifier, `"digitalocean.compute.droplets"`. The splice works on
the tokens of `lexer` (names, dots, strings and comments) and keeps the rest of the statement
byte for byte: regenerating SQL from a parse tree would change it (see the engine notes). A
dotted name is rewritten wherever it stands; a one-part name (`droplets`) only where a table is
expected (after FROM, JOIN, INTO, UPDATE, or a comma in a FROM list), never when a table, view
or CTE of that name exists (your own tables win), and never a column or alias of that name.
A three-part name under a known provider that is no table is an error with a "did you mean"
(SQLite would only say 'near ".": syntax error'). Imports `sql.lexer` and `errors` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlprovider.errors import ProgrammingError
from sqlprovider.sql.lexer import Token, tokens

#: After these, a name is a table (DELETE FROM is covered by FROM).
_TABLE_BEFORE = frozenset({"from", "join", "into", "update"})
#: Words that may follow a table name and are not an alias of it.
_NOT_ALIAS = frozenset(
    {
        "as",
        "where",
        "join",
        "left",
        "right",
        "full",
        "inner",
        "cross",
        "natural",
        "outer",
        "on",
        "using",
        "group",
        "order",
        "limit",
        "union",
        "except",
        "intersect",
        "window",
        "having",
        "indexed",
        "not",
        "set",
        "values",
        "default",
        "select",
        "returning",
    }
)
#: These end a FROM list: a comma after them is no longer "another table".
_FROM_ENDS = frozenset(
    {
        "where",
        "group",
        "order",
        "limit",
        "having",
        "window",
        "union",
        "except",
        "intersect",
        "on",
        "using",
        "returning",
        "set",
        "values",
        "select",
    }
)


class NameResolver:
    """The known three-part table names, and which table any spelling of a name stands for.

    Args:
        qualified_names: three-part names such as ``digitalocean.compute.droplets``.
    """

    def __init__(self, qualified_names: Iterable[str]) -> None:
        self.tables = sorted({name.lower() for name in qualified_names})
        self.providers = sorted({t.split(".")[0] for t in self.tables})
        aliases: dict[str, list[str]] = {}
        for table in self.tables:
            parts = table.split(".")
            for alias in {table, ".".join(parts[1:]), parts[-1]}:
                aliases.setdefault(alias, []).append(table)
        self._aliases = aliases

    def candidates(self, typed: str) -> list[str]:
        """Every table `typed` may stand for (none, one, or several when it is ambiguous)."""
        return list(self._aliases.get(typed.lower(), ()))

    def lookup(self, typed: str) -> str | None:
        """The one table `typed` names, or None when it names none or several."""
        found = self.candidates(typed)
        return found[0] if len(found) == 1 else None

    def resolve(self, typed: str, statement: str) -> str:
        """The table `typed` names.

        Raises:
            ProgrammingError: it names no table, or several (the message says which).
        """
        found = self.lookup(typed)
        if found is None:
            raise unknown_name("table", typed, statement, self.tables, self.candidates(typed))
        return found

    def hint(self, typed: str) -> str:
        """'did you mean ...?', 'it is ambiguous: write one of ...' or 'no similar name exists'."""
        return _hint(typed, self.tables, self.candidates(typed))


def unknown_name(
    kind: str, typed: str, statement: str, known: list[str], ambiguous: list[str]
) -> ProgrammingError:
    """An error naming what the user may have meant, so a typo costs one look."""
    listing = "SHOW RESOURCES lists every table" if kind == "table" else "SHOW SERVICES lists them"
    hint = _hint(typed, known, ambiguous)
    return ProgrammingError(f"{statement}: unknown {kind} {typed!r}; {hint} ({listing})")


def _hint(typed: str, known: list[str], ambiguous: list[str]) -> str:
    if len(ambiguous) > 1:
        return "it is ambiguous: write one of " + ", ".join(ambiguous)
    import difflib  # only a wrong name needs it

    lowered = typed.lower()
    last = {k.rsplit(".", 1)[-1]: k for k in known}
    close = difflib.get_close_matches(lowered, known, n=3, cutoff=0.6)
    close += [
        last[m] for m in difflib.get_close_matches(lowered.rsplit(".", 1)[-1], list(last), n=3)
    ]
    close = list(dict.fromkeys(close))[:3]
    return ("did you mean " + " or ".join(close) + "?") if close else "no similar name exists"


class NameRewriter:
    """Rewrites the resource names of one provider set.

    Args:
        qualified_names: three-part names such as ``digitalocean.compute.droplets``.
        shadowed: whether a table, view or CTE of your own has this (one-part) name; such a
            name is left alone (default: none is).
    """

    def __init__(
        self,
        qualified_names: Iterable[str],
        shadowed: Callable[[str], bool] | None = None,
    ) -> None:
        self.resolver = NameResolver(qualified_names)
        self._full = {name: name for name in self.resolver.tables}
        short: dict[str, list[str]] = {}
        for name in self._full:
            short.setdefault(name.split(".", 1)[1], []).append(name)
        self._short = {alias: names[0] for alias, names in short.items() if len(names) == 1}
        self._last_parts = {name.rsplit(".", 1)[1] for name in self._full}
        self._bare = {
            alias: names[0]
            for alias, names in (
                (part, self.resolver.candidates(part)) for part in self._last_parts
            )
            if len(names) == 1
        }
        self._shadowed = shadowed or (lambda name: False)

    def rewrite(self, sql: str) -> str:
        """Return `sql` with every known resource name quoted as one three-part identifier.

        Raises:
            ProgrammingError: a three-part name under a known provider names no table.
        """
        lowered = sql.lower()
        if not any(part in lowered for part in self._last_parts) and not any(
            provider + "." in lowered for provider in self.resolver.providers
        ):
            return sql
        found = list(tokens(sql))
        edits: list[tuple[int, int, str]] = []
        bare = self._bare_table_positions(found) if self._bare else {}
        i = 0
        while i < len(found):
            match = self._match(found, i)
            if match is None:
                self._check_unknown(found, i)
                if i in bare:
                    edits.append((found[i].start, found[i].end, bare[i]))
                i += 1
                continue
            length, name = match
            edits.append((found[i].start, found[i + length - 1].end, f'"{name}"'))
            i += length
        for start, end, text in reversed(edits):
            sql = sql[:start] + text + sql[end:]
        return sql

    def _check_unknown(self, found: list[Token], i: int) -> None:
        """Refuse `digitalocean.x.y` that is no table (SQLite would say 'near ".": syntax')."""
        window = found[i : i + 5]
        if (
            len(window) == 5
            and window[0].kind == "name"
            and window[0].text.lower() in self.resolver.providers
            and all(t.kind == "dot" for t in window[1::2])
            and all(t.kind == "name" for t in window[::2])
            and (i == 0 or found[i - 1].kind != "dot")
            and (len(found) == i + 5 or found[i + 5].kind != "dot")
        ):
            typed = ".".join(t.text for t in window[::2])
            raise unknown_name("table", typed, "SQL", self.resolver.tables, [])

    def _bare_table_positions(self, found: list[Token]) -> dict[int, str]:
        """Indexes of one-part names standing where a table is expected, with their new text.

        A name without an alias keeps its spelling as the alias (`"digitalocean.compute.
        droplets" AS droplets`), so `droplets.id` elsewhere in the statement still resolves.
        """
        ctes = _cte_names(found)
        positions: dict[int, str] = {}
        depth = 0
        expecting = False
        keyword = ""
        from_lists: set[int] = set()
        for i, token in enumerate(found):
            word = token.text.lower() if token.kind == "name" else token.text
            if token.kind == "other" and word == "(":
                depth += 1
                expecting = False
                continue
            if token.kind == "other" and word == ")":
                from_lists.discard(depth)
                depth -= 1
                continue
            if token.kind == "other" and word == "," and depth in from_lists:
                expecting = True
                keyword = "from"
                continue
            if token.kind != "name":
                expecting = False
                continue
            if word in _TABLE_BEFORE and _is_bare(token):
                expecting = True
                keyword = word
                if word in ("from", "join"):
                    from_lists.add(depth)
                continue
            if word in _FROM_ENDS and _is_bare(token):
                from_lists.discard(depth)
                expecting = False
                continue
            if expecting:
                expecting = False
                table = self._bare.get(word)
                before_dot = i > 0 and found[i - 1].kind == "dot"
                after = found[i + 1] if i + 1 < len(found) else None
                if (
                    table is not None
                    and not before_dot
                    and not (after is not None and after.kind == "dot")
                    and not (after is not None and after.text == "(" and keyword != "into")
                    and word not in ctes
                    and not self._shadowed(word)
                ):
                    aliased = (
                        (
                            after is not None
                            and after.kind == "name"
                            and not (after.text.lower() in _NOT_ALIAS and _is_bare(after))
                        )
                        or (after is not None and after.text.lower() == "as")
                        or keyword == "into"
                    )
                    written = "" if aliased else f" AS {_quoted(token.text)}"
                    positions[i] = f'"{table}"{written}'
        return positions

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


def _quoted(name: str) -> str:
    """`name` as a quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def _is_bare(token: Token) -> bool:
    """Whether a name token was written bare (a quoted "from" is a name, not the keyword)."""
    return token.end - token.start == len(token.text)


def _cte_names(found: list[Token]) -> set[str]:
    """Names defined by `name AS (` or `name(cols) AS (` (CTEs; windows too, left alone)."""
    names: set[str] = set()
    for i, token in enumerate(found):
        if token.kind != "name":
            continue
        j = i + 1
        if j < len(found) and found[j].text == "(":
            depth = 0
            while j < len(found):
                depth += found[j].text == "("
                depth -= found[j].text == ")"
                j += 1
                if depth == 0:
                    break
        if j < len(found) and found[j].text.lower() == "as":
            j += 1
            while j < len(found) and found[j].text.lower() in ("not", "materialized"):
                j += 1
            if j < len(found) and found[j].text == "(":
                names.add(token.text.lower())
    return names
