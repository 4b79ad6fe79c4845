"""`Session`: the engine's state for one apsw connection, and the join prefetch.

`Session.install` registers one module per resource on a connection and hooks the connection's
statement trace, so each statement gets its own `Statement` (counters, memo). When a keyed
table is first filtered by a scalar key inside a statement, the session asks `joins` where
that key comes from, runs the small key query on the same connection (SQLite allows that from
inside a virtual table callback on the same thread), and starts every keyed call at once.
Imports `spec`, `http`, `options`, `engine.*` and `errors`.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import apsw

from sqlprovider.engine.batch import answer_from_list
from sqlprovider.engine.bindings import inline_bindings
from sqlprovider.engine.estimate import Collector
from sqlprovider.engine.fetch import Fetcher, Page, first_page
from sqlprovider.engine.plan import plan_calls, row_limit
from sqlprovider.engine.statement import Statement
from sqlprovider.engine.vtable import ResourceModule
from sqlprovider.engine.writer import Writer
from sqlprovider.errors import Error
from sqlprovider.http import ApiClient
from sqlprovider.options import ConnectOptions
from sqlprovider.spec import Provider, Resource

_logger = logging.getLogger(__name__)

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


class Session:
    """Engine state shared by every cursor of one connection.

    Args:
        connection: the apsw connection to serve.
        provider: the loaded specification.
        client: HTTP access for this connection's token.
        max_concurrency: parallel requests per statement (and keep-alive connections).
        options: the settings the connection was opened with (for settings the engine reads).
    """

    def __init__(
        self,
        connection: apsw.Connection,
        provider: Provider,
        client: ApiClient,
        max_concurrency: int = 16,
        options: ConnectOptions | None = None,
    ) -> None:
        self.connection = connection
        self.options = options or ConnectOptions(max_concurrency=max_concurrency)
        self.provider = provider
        self.client = client
        self.max_per_page = provider.pagination.max_per_page
        self.fetcher = Fetcher(client, max_concurrency, provider.pagination, window=max_concurrency)
        self.statement = Statement(None)
        self.previous = self.statement
        self.refusals: deque[str] = deque(maxlen=20)
        self._keyed = frozenset(
            (r.qualified_name, name)
            for r in provider.resources()
            for m in r.methods
            for name in m.path_params
        )
        self._keyed_names = {name for name, _ in self._keyed}
        self._in_key_query = False
        self.writer = Writer(self, provider, self.options)
        #: Set by `estimate()`: statements then count their keyed calls instead of sending them.
        self.estimating: Collector | None = None

    def install(self) -> None:
        """Register every resource as an eponymous module and trace statements.

        Every table takes the write calls, so a write to one that declares none is refused
        with the list of the writes that exist, not SQLite's bare "may not be modified".
        """
        for resource in self.provider.resources():
            self.connection.create_module(
                resource.qualified_name,
                ResourceModule(self, resource),  # type: ignore[arg-type]  # apsw's Protocol is stricter
                use_bestindex_object=True,
                use_no_change=True,
                iVersion=2,
                eponymous_only=True,
            )
        self.connection.exec_trace = self.on_statement

    def close(self) -> None:
        """Stop workers and release HTTP connections."""
        self.statement.finish()
        self.fetcher.close()
        self.client.close()

    def on_statement(self, cursor: apsw.Cursor, sql: str, bindings: Any) -> bool:
        """apsw's exec trace: a statement is about to run, so it gets a fresh context."""
        if not self._in_key_query:
            self.previous, self.statement = self.statement, Statement(sql, bindings)
            self.statement.estimate = self.estimating
            # Planning is over once a statement runs: its refusals explain nothing later on.
            self.refusals.clear()
            self.writer.forget_rows()
        return True

    def run_nested(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small query on this connection from inside a callback, as part of the
        current statement (its requests count there; it starts no statement of its own)."""
        was = self._in_key_query
        self._in_key_query = True
        try:
            cursor = self.connection.cursor()
            cursor.exec_trace = lambda *_: True
            return list(cursor.execute(sql))
        finally:
            self._in_key_query = was

    def last_stats(self) -> dict[str, float]:
        """API work of the statement before the current one (what `.stats` reports)."""
        return self.previous.summary()

    def note_refusal(self, reason: str) -> None:
        """Remember why a plan was refused, to explain SQLite's 'no query solution'."""
        self.refusals.append(reason)

    def stream(
        self, resource: Resource, names: Sequence[str], values: Sequence[Any]
    ) -> Iterator[Page]:
        """The pages for one Filter call (`values[i]` for parameter `names[i]`).

        When the call is one key of a join, the join's other keys are started first.

        Raises:
            InvalidParameterError: a value the API would reject; nothing has been sent.
        """
        limit = row_limit(names, values)
        calls = plan_calls(resource, names, values, self.max_per_page, limit=limit)
        statement = self.statement
        if statement.retained_sources is None:
            statement.retained_sources = frozenset(s.source for s in self._key_sources(statement))
        if calls and resource.qualified_name in self._keyed_names:
            self._prefetch_join_keys(resource, statement, names, values)
        if len(calls) > 1 and limit is None:
            answer_from_list(self.fetcher, resource, calls, statement)
        return self.fetcher.stream(resource, calls, statement, limit)

    def _key_sources(self, statement: Statement) -> tuple[Any, ...]:
        sql = statement.sql
        if not sql or not _may_join(sql.lower()):
            return ()
        if not any(name in sql.lower() for name in self._keyed_names):
            return ()
        from sqlprovider.engine.joins import key_sources  # sqlglot: imported only when needed

        # Bound values written in as literals: a condition with `?` then narrows the key query
        # as its literal form does (same SQL, same calls).
        return key_sources(inline_bindings(sql, statement.bindings) or sql, self._keyed)

    def _prefetch_join_keys(
        self,
        resource: Resource,
        statement: Statement,
        names: Sequence[str],
        values: Sequence[Any],
    ) -> None:
        if resource.qualified_name in statement.prefetched or self._in_key_query:
            return
        sources = [
            s
            for s in self._key_sources(statement)
            if s.table == resource.qualified_name and s.column in names
        ]
        if not sources:
            return
        statement.prefetched.add(resource.qualified_name)
        source = sources[0]
        self._in_key_query = True
        try:
            cursor = self.connection.cursor()
            cursor.exec_trace = lambda *_: True
            keys = {row[0] for row in cursor.execute(source.query)}
            # The same call as this Filter's (page size, filters...), for every key at once.
            every = [
                keys if name == source.column else v for name, v in zip(names, values, strict=True)
            ]
            calls = plan_calls(
                resource, names, every, self.max_per_page, limit=row_limit(names, every)
            )
        except (Error, apsw.Error) as exc:
            # The nested loop will ask for each key itself; only speed is lost.
            _logger.debug("no join prefetch for %s: %s", resource.qualified_name, exc)
            return
        finally:
            self._in_key_query = False
        calls = answer_from_list(self.fetcher, resource, calls, statement)
        _logger.debug("join prefetch: %d calls for %s", len(calls), resource.qualified_name)
        for call in calls:
            self.fetcher.start(resource, call, statement, first_page(call))
