"""`Session`: the engine's state for one apsw connection, and the join prefetch.

`Session.install` registers one module per resource on a connection and hooks the connection's
statement trace, so each statement gets its own `Statement` (counters, memo). When a keyed
table is first filtered by a scalar key inside a statement, the session asks `joins` where
that key comes from, runs the small key query on the same connection (SQLite allows that from
inside a virtual table callback on the same thread), and starts every keyed call at once.

A session serves one or more accounts. Each has its own `Fetcher` (its token, its pacer, its
memo keys); a Filter call is planned once and sent to every account its `account` constraint
selects (all by default), their first pages all started before any is read; each page comes
back with the name of the account it belongs to. A prefetched join key is looked up only with
the token of the account whose row supplied it. With `on_account_error="skip"` an account whose
calls fail is left out of the statement and recorded in `Statement.failures`.
Imports `spec`, `http`, `options`, `engine.*` and `errors`.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import apsw

from sqlprovider.engine.estimate import Collector
from sqlprovider.engine.statement import AccountFailure, Statement, is_aggregate
from sqlprovider.engine.vtable import ACCOUNT_ARG, ResourceModule, TableHost
from sqlprovider.errors import ApiError, OperationalError, ProgrammingError
from sqlprovider.http import Account, ApiClient, Config
from sqlprovider.options import ConnectOptions
from sqlprovider.spec import Method, Provider, Resource

if TYPE_CHECKING:
    # What a statement that reads an API table needs (requests, paging, writes) is imported
    # by the first such statement, not at connect: `SELECT 1` and the metadata tables never
    # pay for it. The names are here for the annotations only.
    from sqlprovider.engine.fetch import Fetcher
    from sqlprovider.engine.pages import Page
    from sqlprovider.engine.prefetch import KeyWindow
    from sqlprovider.engine.writer import Writer

    #: One page for the cursor, with the name of the account it came from.
    AccountPage = tuple[str, Page]

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
        accounts: the accounts this connection reads (an `ApiClient` alone is one account,
            `default`).
        max_concurrency: parallel requests per statement and account (and keep-alive
            connections); a process-wide cap applies on top.
        options: the settings the connection was opened with (for settings the engine reads,
            such as `on_account_error`: "fail" names the failing account in the statement's
            error, "skip" returns the other accounts' rows and records the failure).
    """

    def __init__(
        self,
        connection: apsw.Connection,
        provider: Provider,
        accounts: Sequence[Account] | ApiClient,
        max_concurrency: int = 16,
        options: ConnectOptions | None = None,
    ) -> None:
        if isinstance(accounts, ApiClient):
            accounts = [Account("default", accounts.base_url, accounts)]
        if not accounts:
            raise ValueError("a session needs at least one account")
        self.connection = connection
        self.options = options or ConnectOptions(max_concurrency=max_concurrency)
        self.provider = provider
        self.accounts = tuple(accounts)
        self.skip_failed = self.options.on_account_error == "skip"
        self.client = self.accounts[0].client
        self.max_per_page = provider.pagination.max_per_page
        self._max_concurrency = max_concurrency
        self._fetchers: dict[str, Fetcher] | None = None
        self._writer: Writer | None = None
        self.statement = Statement(None)
        self.previous = self.statement
        #: The accounts configured (selected or not), for `sqlprovider_accounts`.
        self.config: Config | None = None
        self.refusals: deque[str] = deque(maxlen=20)
        self._keyed = frozenset(
            (r.qualified_name, name)
            for r in provider.resources()
            for m in r.methods
            for name in m.path_params
        )
        self._keyed_names = {name for name, _ in self._keyed}
        self._tables = frozenset(r.qualified_name for r in provider.resources())
        self._in_key_query = False
        #: Each keyed table's join window: its statement, the window, the key column.
        self._windows: dict[str, tuple[Statement, KeyWindow, str]] = {}
        #: The statement the exec trace started, until SQLite's statement trace claims it.
        self._unclaimed: Statement | None = None
        #: Running statements by SQLite's statement id (to stop each one at its end).
        self._live: dict[Any, Statement] = {}
        #: Called with each statement as it starts (the shell's warnings and progress).
        self.listeners: list[Callable[[Statement], None]] = []
        #: Set by `estimate()`: statements then count their keyed calls instead of sending them.
        self.estimating: Collector | None = None

    @property
    def fetchers(self) -> dict[str, Fetcher]:
        """Each account's `Fetcher` by account name, made when a statement first needs one."""
        if self._fetchers is None:
            from sqlprovider.engine.fetch import Fetcher

            several = len(self.accounts) > 1
            self._fetchers = {
                account.name: Fetcher(
                    account.client,
                    self._max_concurrency,
                    self.provider.pagination,
                    window=self._max_concurrency,
                    account=account.name,
                    name_errors=several,
                )
                for account in self.accounts
            }
        return self._fetchers

    @property
    def fetcher(self) -> Fetcher:
        """The default account's `Fetcher`."""
        return self.fetchers[self.accounts[0].name]

    @property
    def writer(self) -> Writer:
        """Plans, stages and sends the connection's writes (made at the first write)."""
        if self._writer is None:
            from sqlprovider.engine.writer import Writer

            self._writer = Writer(self, self.provider, self.options)
        return self._writer

    def take_write_report(self) -> list[str]:
        """The writer's lines for batches not yet reported; none when nothing was written."""
        return self._writer.take_report() if self._writer is not None else []

    def install(self) -> None:
        """Register every resource as an eponymous module and trace statements.

        Every table takes the write calls, so a write to one that declares none is refused
        with the list of the writes that exist, not SQLite's bare "may not be modified".
        """
        host: TableHost = self  # checked here: the tables see the session through this
        for resource in self.provider.resources():
            self.connection.create_module(
                resource.qualified_name,
                ResourceModule(host, resource),  # type: ignore[arg-type]  # apsw's Protocol is stricter
                use_bestindex_object=True,
                use_no_change=True,
                iVersion=2,
                eponymous_only=True,
            )
        # One hook for "a statement starts" (and ends): SQLite's statement trace, registered
        # under this session's id so that it coexists with anyone else's trace and exec trace.
        # The exec trace only contributes the bindings, when nobody replaced it.
        self.connection.exec_trace = self.on_statement
        self.connection.trace_v2(
            apsw.SQLITE_TRACE_STMT | apsw.SQLITE_TRACE_PROFILE, self._on_trace, id=self
        )

    @property
    def multi_account(self) -> bool:
        """Whether rows can come from more than one account."""
        return len(self.accounts) > 1

    def close(self) -> None:
        """Stop workers and release HTTP connections."""
        self.statement.finish(abandon=True)
        self._close_windows()
        for fetcher in (self._fetchers or {}).values():
            fetcher.close()
        for account in self.accounts:
            account.client.close()

    def last_failures(self) -> list[AccountFailure]:
        """The accounts skipped by the statement before the current one."""
        return list(self.previous.failures.values())

    def on_statement(self, cursor: apsw.Cursor | None, sql: str, bindings: Any) -> bool:
        """apsw's exec trace: a statement is about to run, so it gets a fresh context.

        SQLite's statement trace (`_on_trace`) then claims it; when the exec trace was replaced
        (by an `attach()` user, or apsw's shell), the statement trace starts it alone.
        """
        if not self._in_key_query:
            self._begin(sql, bindings)
            self._unclaimed = self.statement
        return True

    def _begin(self, sql: str, bindings: Any) -> None:
        self.previous = self.statement
        self.statement = Statement(sql, bindings, max_wait=self.client.max_wait)
        self.statement.reuse_bytes = self.options.reuse_bytes
        self.statement.estimate = self.estimating
        # Planning is over once a statement runs: its refusals explain nothing later on.
        self.refusals.clear()
        if self._writer is not None:
            self._writer.forget_rows()
        self._close_windows()
        for listener in self.listeners:
            listener(self.statement)

    def _on_trace(self, event: dict[str, Any]) -> None:
        """SQLite's statement trace: a statement's first step, and its end (reset or finalize).

        At its end, a statement's queued calls are cancelled (a `LIMIT 1` join must not go on
        prefetching for the next statement's rate limit), whether it finished, failed or was
        closed early.
        """
        if event.get("code") == apsw.SQLITE_TRACE_PROFILE:
            ended = self._live.pop(event.get("id"), None)
            if ended is not None:
                # Queued calls are cancelled; those on the wire finish (cut off, they would
                # still reach the API, later than the statement's error or its last row).
                ended.finish(abandon=False)
                self._close_windows(ended)
            return
        if event.get("trigger") or self._in_key_query:
            return
        sql = event.get("sql") or ""
        statement = self._unclaimed
        self._unclaimed = None
        if statement is None or (statement.sql or "").strip() != sql.strip():
            self._begin(sql, None)
            statement = self.statement
        if len(self._live) >= 64:  # statements never reset (leaked cursors): forget the oldest
            self._live.pop(next(iter(self._live)))
        self._live[event.get("id")] = statement

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
    ) -> Iterator[AccountPage]:
        """The pages for one Filter call (`values[i]` for parameter `names[i]`), each with its
        account's name.

        When the call is one key of a join, the join's other keys are started first.

        Raises:
            InvalidParameterError: a value the API would reject; nothing has been sent.
            ProgrammingError: an `account` value that names no account of this connection.
        """
        from sqlprovider.engine.batch import answer_from_list
        from sqlprovider.engine.plan import plan_calls, row_limit

        names, values, wanted = self._split_account(names, values)
        limit = row_limit(names, values)
        calls = plan_calls(resource, names, values, self.max_per_page, limit=limit)
        statement = self.statement
        if statement.retained_sources is None:
            statement.retained_sources = frozenset(s.source for s in self._key_sources(statement))
        if calls and resource.qualified_name in self._keyed_names:
            self._prefetch_join_keys(resource, statement, names, values, calls[0].method)
        streams: list[tuple[str, Iterator[Page]]] = []
        for account in wanted:
            if account.name in statement.failures:
                continue
            fetcher = self.fetchers[account.name]
            try:
                if len(calls) > 1 and limit is None:
                    answer_from_list(fetcher, resource, calls, statement)
                pages = fetcher.stream(resource, calls, statement, limit)
            except OperationalError as exc:
                if not self.skip_failed:
                    raise
                self.record_failure(statement, account.name, resource, exc)
                continue
            streams.append((account.name, pages))
        return self._pages(resource, statement, streams)

    def _pages(
        self,
        resource: Resource,
        statement: Statement,
        streams: list[tuple[str, Iterator[Page]]],
    ) -> Iterator[AccountPage]:
        try:
            for name, pages in streams:
                if not self.skip_failed:
                    for page in pages:
                        yield name, page
                    continue
                # Skipping: an account's pages are read whole first, so one that fails part
                # way contributes no rows from this call rather than some of them.
                try:
                    read = list(pages)
                except OperationalError as exc:
                    self.record_failure(statement, name, resource, exc)
                    continue
                for page in read:
                    yield name, page
        finally:
            for _, pages in streams:
                close = getattr(pages, "close", None)
                if close is not None:
                    close()

    def record_failure(
        self, statement: Statement, account: str, resource: Resource, exc: OperationalError
    ) -> None:
        status = exc.status if isinstance(exc, ApiError) else None
        _logger.debug("account %s skipped: %s", account, exc)
        failure = AccountFailure(account, resource.qualified_name, status, str(exc))
        if account in statement.failures:
            return
        statement.record_failure(failure)
        # A notice on the cursor (and on stderr in the CLI and shell): never silently partial.
        notice = (
            f"account {account!r} was skipped ({resource.qualified_name}: {exc}); the result "
            "has none of its rows, or only some"
        )
        if is_aggregate(statement.sql or ""):
            notice += "; the aggregates in this result (count, sum, ...) leave it out"
        statement.note(notice)

    def _split_account(
        self, names: Sequence[str], values: Sequence[Any]
    ) -> tuple[list[str], list[Any], list[Account]]:
        """Take the `account` constraint out of the Filter arguments; the accounts it selects."""
        if ACCOUNT_ARG not in names:
            return list(names), list(values), list(self.accounts)
        index = list(names).index(ACCOUNT_ARG)
        given = values[index]
        asked = set(given) if isinstance(given, (set, frozenset)) else {given}
        known = {account.name: account for account in self.accounts}
        unknown = sorted(str(v) for v in asked if v is not None and v not in known)
        if unknown:
            raise ProgrammingError(
                f"no account named {', '.join(map(repr, unknown))} on this connection; its "
                f"accounts are: {', '.join(known)} (select others with connect(accounts=...) "
                "or --account)"
            )
        rest = [i for i in range(len(names)) if i != index]
        return (
            [names[i] for i in rest],
            [values[i] for i in rest],
            [account for account in self.accounts if account.name in asked],
        )

    def _key_sources(self, statement: Statement) -> tuple[Any, ...]:
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

    def _prefetch_join_keys(
        self,
        resource: Resource,
        statement: Statement,
        names: Sequence[str],
        values: Sequence[Any],
        method: Method,
    ) -> None:
        if self._in_key_query:
            return
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

        window = prefetch_join_keys(self, resource, statement, sources[0], names, values, method)
        if window is not None:
            self._windows[name] = (statement, window, sources[0].column)
            window.asked(_key_asked(sources[0].column, names, values))

    def key_rows(self, query: str) -> Iterator[tuple[Any, ...]]:
        """The rows of a key query, read as they are asked for, as part of the current statement.

        Each step runs with the statement's trace hooks muted (the query starts no statement of
        its own), so it can be read a little at a time from later Filter calls.
        """
        cursor = self.connection.cursor()
        cursor.exec_trace = lambda *_: True
        rows: Iterator[tuple[Any, ...]] | None = None
        try:
            while True:
                was = self._in_key_query
                self._in_key_query = True
                try:
                    if rows is None:
                        rows = iter(cursor.execute(query))
                    row = next(rows, None)
                finally:
                    self._in_key_query = was
                if row is None:
                    return
                yield row
        finally:
            cursor.close(True)

    def _close_windows(self, ended: Statement | None = None) -> None:
        """Stop the key queries of the joins of `ended` (of every statement when None).

        A statement that ends before its last row (an error, an interrupt, a cursor closed
        early) leaves its key query part read: until it is reset SQLite counts it as running,
        and an interrupt stays in force for every statement started meanwhile.
        """
        for name, (statement, window, _) in list(self._windows.items()):
            if ended is None or statement is ended:
                del self._windows[name]
                window.close()


def _key_asked(column: str, names: Sequence[str], values: Sequence[Any]) -> Any:
    """The key a Filter call asks for (None for a set of keys: an IN list of its own)."""
    value = values[list(names).index(column)]
    return None if isinstance(value, (set, frozenset)) else value
