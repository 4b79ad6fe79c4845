"""Which joins of a statement can supply a keyed table's keys, and each join's open key window.

When a keyed table is first filtered by a scalar key inside a statement, `engine.joins` says
where that key comes from (the key query) and `engine.prefetch` starts the keyed calls from it,
a window of keys ahead of SQLite's nested loop. This module keeps the bookkeeping between the
two for a connection: whether the statement's text can join at all (so a one-table statement
never imports the SQL parser), which sources the statement keeps pages of for a second read,
each keyed table's window and the key column it follows, and the end of a window with its
statement (a key query left part read keeps SQLite counting its statement as running).
Imports `engine.*` and `spec`; the parser and the prefetch only when a statement may join.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlprovider.engine.statement import Statement
from sqlprovider.spec import Provider, Resource

if TYPE_CHECKING:
    from sqlprovider.engine.joins import KeySource
    from sqlprovider.engine.plan import Call
    from sqlprovider.engine.prefetch import KeyWindow, PrefetchHost

#: JOIN, or a comma after a FROM: where a second table can join the first. (A subquery's own
#: FROM cannot supply keys through a join: SQLite hands an IN (SELECT ...) over as one set.)
_SECOND_TABLE = re.compile(r"\bjoin\b|\bfrom\b[\s\S]*,")


def _may_join(lowered_sql: str) -> bool:
    """Whether the statement may join two tables, so that one could supply the other's keys.

    A cheap look at the text that may say yes wrongly (a word in a string) but never says no
    to a join: it keeps a one-table statement from paying for a SQL parser (~0.25 s to import
    on the first statement of a process).
    """
    return _SECOND_TABLE.search(lowered_sql) is not None


class JoinWindows:
    """The join prefetch's state for one connection.

    Args:
        provider: the loaded specification (its keyed tables and their key columns).
        host: what the prefetch runs with (the session: accounts, key queries, failure rules).
    """

    def __init__(self, provider: Provider, host: PrefetchHost) -> None:
        self._host = host
        self._keyed = frozenset(
            (r.qualified_name, name)
            for r in provider.resources()
            for m in r.methods
            for name in m.path_params
        )
        self._keyed_names = {name for name, _ in self._keyed}
        self._tables = frozenset(r.qualified_name for r in provider.resources())
        #: Each keyed table's join window: its statement, the window, the key column.
        self._windows: dict[str, tuple[Statement, KeyWindow, str]] = {}

    def filtered(
        self,
        resource: Resource,
        statement: Statement,
        names: Sequence[str],
        values: Sequence[Any],
        calls: list[Call],
        nested: bool,
    ) -> None:
        """A Filter call of `resource` in `statement` is about to send `calls`.

        At the statement's first Filter call, the sources it reads twice (key query, then
        outer scan) are recorded, so their pages are kept for the second read. A keyed table's
        first call starts the join's keyed calls; its later calls move the window along.

        Args:
            nested: the call comes from inside a key query, which prefetches nothing itself.
        """
        if statement.retained_sources is None:
            statement.retained_sources = frozenset(s.source for s in self._key_sources(statement))
        if calls and resource.qualified_name in self._keyed_names and not nested:
            self._prefetch(resource, statement, names, values, calls[0])

    def close(self, ended: Statement | None = None) -> None:
        """Stop the key queries of the joins of `ended` (of every statement when None).

        A statement that ends before its last row (an error, an interrupt, a cursor closed
        early) leaves its key query part read: until it is reset SQLite counts it as running,
        and an interrupt stays in force for every statement started meanwhile.
        """
        for name, (statement, window, _) in list(self._windows.items()):
            if ended is None or statement is ended:
                del self._windows[name]
                window.close()

    def _key_sources(self, statement: Statement) -> tuple[KeySource, ...]:
        sql = statement.sql
        if not sql or not _may_join(sql.lower()):
            return ()
        if not any(name in sql.lower() for name in self._keyed_names):
            return ()
        from sqlprovider.engine.bindings import inline_bindings
        from sqlprovider.engine.joins import key_sources  # sqlglot: imported only when needed

        # Bound values written in as literals: a condition with `?` then narrows the key query
        # as its literal form does (same SQL, same calls).
        return key_sources(
            inline_bindings(sql, statement.bindings) or sql, self._keyed, self._tables
        )

    def _prefetch(
        self,
        resource: Resource,
        statement: Statement,
        names: Sequence[str],
        values: Sequence[Any],
        first: Call,
    ) -> None:
        name = resource.qualified_name
        known = self._windows.get(name)
        if known is not None and known[0] is statement:
            known[1].asked(_key_asked(known[2], names, values))
            return
        if name in statement.prefetched:
            return
        sources = [s for s in self._key_sources(statement) if s.table == name and s.column in names]
        if not sources:
            return
        statement.prefetched.add(name)
        from sqlprovider.engine.prefetch import prefetch_join_keys

        window = prefetch_join_keys(
            self._host, resource, statement, sources[0], names, values, first.method
        )
        if window is not None:
            self._windows[name] = (statement, window, sources[0].column)
            window.asked(_key_asked(sources[0].column, names, values))


def _key_asked(column: str, names: Sequence[str], values: Sequence[Any]) -> Any:
    """The key a Filter call asks for (None for a set of keys: an IN list of its own)."""
    value = values[list(names).index(column)]
    return None if isinstance(value, (set, frozenset)) else value
