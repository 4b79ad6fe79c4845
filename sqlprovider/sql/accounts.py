"""Joins match within an account: add `x.account = y.account` to the ON of every API-table join.

On a connection with several accounts, a Droplet id does not exist in another account, and
asking another account's token for it would leak the question to the wrong tenant. So the
engine's rule is that rows of two API tables join only when they come from the same account:
each `JOIN <api table> ... ON cond` whose SELECT already has an API table before it becomes
`ON (cond) AND t."account" = first."account"`. SQLite then hands the keyed table's Filter the
account together with the key, and only that account is asked.

Like the name rewriter, this splices text into the statement (found from sqlglot's tokens)
and keeps everything else byte for byte. A join between API tables written without ON (a comma
join, CROSS, NATURAL or USING) is refused with a message rather than left to match across
accounts. Joins through `IN (SELECT ...)` and correlated subqueries are not rewritten (the
README says so). Imports nothing else from sqlprovider but `errors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlprovider.errors import NotSupportedError

_ENDS = {
    "JOIN",
    "LEFT",
    "RIGHT",
    "INNER",
    "OUTER",
    "CROSS",
    "FULL",
    "NATURAL",
    "WHERE",
    "GROUP_BY",
    "ORDER_BY",
    "LIMIT",
    "HAVING",
    "WINDOW",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "SEMICOLON",
    "COMMA",
    "RETURNING",
}


class AccountJoins:
    """Adds account matching to the joins of one provider's tables.

    Args:
        qualified_names: the API tables (three-part names; they have an `account` column).
    """

    def __init__(self, qualified_names: Iterable[str]) -> None:
        self._tables = frozenset(name.lower() for name in qualified_names)

    def rewrite(self, sql: str) -> str:
        """`sql` (its names already quoted) with account matching in every API-table join."""
        lowered = sql.lower()
        if sum(lowered.count(name) for name in self._tables) < 2:
            return sql
        import sqlglot
        from sqlglot import exp

        try:
            tokens = sqlglot.tokenize(sql, read="sqlite")
            trees = sqlglot.parse(sql, read="sqlite")
        except sqlglot.errors.SqlglotError:
            return sql  # SQLite will report the syntax error itself
        ons = [t for t in tokens if t.token_type.name == "ON"]
        edits: list[tuple[int, str]] = []
        for tree in trees:
            if tree is None:
                continue
            for select in tree.find_all(exp.Select):
                edits += self._select_edits(select, sql, tokens, ons)
        for position, text in sorted(edits, key=lambda e: e[0], reverse=True):
            sql = sql[:position] + text + sql[position:]
        return sql

    def _select_edits(
        self, select: Any, sql: str, tokens: list[Any], ons: list[Any]
    ) -> list[tuple[int, str]]:
        from sqlglot import exp

        from_ = select.args.get("from") or select.args.get("from_")
        items = [(from_.this, None)] if from_ is not None else []
        items += [(join.this, join) for join in select.args.get("joins") or []]
        anchor: str | None = None
        edits: list[tuple[int, str]] = []
        for item, join in items:
            if not isinstance(item, exp.Table) or _name(item) not in self._tables:
                continue
            reference = _quoted(item.alias_or_name)
            if anchor is None:
                anchor = reference
                continue
            on = join.args.get("on") if join is not None else None
            if on is None:
                raise NotSupportedError(
                    f"{_name(item)} is joined to another API table without ON (a comma join, "
                    "CROSS, NATURAL or USING); on a connection with several accounts write "
                    "JOIN ... ON ..., where the engine matches rows within one account"
                )
            on_token = _on_token_of(on, ons)
            if on_token is None:
                raise NotSupportedError(
                    f"cannot find the ON of the join of {_name(item)}; write the join as "
                    "JOIN ... ON ... so rows can be matched within one account"
                )
            start, end = _condition_span(tokens, on_token)
            edits.append((start, "("))
            edits.append((end, f') AND {reference}."account" = {anchor}."account"'))
        return edits


def _on_token_of(on: Any, ons: list[Any]) -> Any:
    """The ON token of a join condition: the last ON before the condition's first identifier."""
    from sqlglot import exp

    starts = [
        node.meta["start"] for node in on.find_all(exp.Identifier) if "start" in (node.meta or {})
    ]
    if not starts:
        return None
    first = min(starts)
    before = [t for t in ons if t.end < first]
    return before[-1] if before else None


def _condition_span(tokens: list[Any], on_token: Any) -> tuple[int, int]:
    """Where the ON condition starts, and the offset just past it (the next clause at the
    same depth)."""
    index = next(i for i, t in enumerate(tokens) if t is on_token)
    start: int = tokens[index + 1].start
    depth = 0
    last = on_token
    for token in tokens[index + 1 :]:
        kind = token.token_type.name
        if kind == "L_PAREN":
            depth += 1
        elif kind == "R_PAREN":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and kind in _ENDS:
            break
        last = token
    end: int = last.end + 1
    return start, end


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _name(table: Any) -> str:
    return ".".join(part.name for part in table.parts).lower()
