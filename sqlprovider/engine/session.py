"""`Session`: the engine's state for one apsw connection, and its statements' start and end.

`Session.install` registers one module per resource on a connection and hooks the connection's
statement trace, so each statement gets its own `Statement` (counters, memo), and a statement
that ends stops its queued calls and its joins' key queries. A Filter call is planned here once,
then handed on: `engine.join_windows` starts a join's keyed calls (its key query runs on the
same connection, which SQLite allows from inside a virtual table callback on the same thread,
so the session mutes its own hooks meanwhile) and `engine.account_streams` sends the call to
each account it selects. Each account has its own `Fetcher` (its token, its pacer, its memo
keys), made with the writer by `engine.machinery` when first needed.
Imports `spec`, `http`, `options`, `engine.*` and `errors`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import apsw

from sqlprovider.engine.account_streams import account_pages, split_account
from sqlprovider.engine.estimate import Collector
from sqlprovider.engine.join_windows import JoinWindows
from sqlprovider.engine.machinery import Machinery
from sqlprovider.engine.rows_memo import RowsMemo
from sqlprovider.engine.statement import AccountFailure, Statement
from sqlprovider.engine.vtable import ResourceModule, TableHost
from sqlprovider.http import Account, ApiClient, Config
from sqlprovider.options import ConnectOptions
from sqlprovider.spec import Provider, Resource

if TYPE_CHECKING:
    # What a statement that reads an API table needs (requests, paging, writes) is imported
    # by the first such statement, not at connect: `SELECT 1` and the metadata tables never
    # pay for it. The names are here for the annotations only.
    from sqlprovider.engine.account_streams import AccountPage
    from sqlprovider.engine.fetch import Fetcher
    from sqlprovider.engine.prefetch import PrefetchHost
    from sqlprovider.engine.writer import Writer


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
        self._machinery = Machinery(self, max_concurrency)
        self.statement = Statement(None)
        self.previous = self.statement
        #: The accounts configured (selected or not), for `sqlprovider_accounts`.
        self.config: Config | None = None
        self.refusals: deque[str] = deque(maxlen=20)
        self._in_key_query = False
        prefetch_host: PrefetchHost = self  # checked here: the prefetch sees the session as this
        self._joins = JoinWindows(provider, prefetch_host)
        #: The statement the exec trace started, until SQLite's statement trace claims it.
        self._unclaimed: Statement | None = None
        #: Running statements by SQLite's statement id (to stop each one at its end).
        self._live: dict[Any, Statement] = {}
        #: Called with each statement as it starts (the shell's warnings and progress).
        self.listeners: list[Callable[[Statement], None]] = []
        #: Set by `estimate()`: statements then count their keyed calls instead of sending them.
        self.estimating: Collector | None = None
        #: Rows built from cached pages (see `engine.rows_memo`).
        self.rows_memo = RowsMemo()

    def clear_cache(self) -> int:
        """Empty the process's response cache and this connection's rows built from it;
        return how many answers the cache held."""
        self.rows_memo.clear()
        return self.client.cache.clear()

    @property
    def fetchers(self) -> dict[str, Fetcher]:
        """Each account's `Fetcher` by account name, made when a statement first needs one."""
        return self._machinery.fetchers

    @property
    def fetcher(self) -> Fetcher:
        """The default account's `Fetcher`."""
        return self.fetchers[self.accounts[0].name]

    @property
    def writer(self) -> Writer:
        """Plans, stages and sends the connection's writes (made at the first write)."""
        return self._machinery.writer

    def take_write_report(self) -> list[str]:
        """The writer's lines for batches not yet reported; none when nothing was written."""
        return self._machinery.take_write_report()

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
        self._joins.close()
        self._machinery.close()
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
        self._machinery.statement_started()
        self._joins.close()
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
                self._joins.close(ended)
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
        from sqlprovider.engine.plan import plan_calls, row_limit

        names, values, wanted = split_account(names, values, self.accounts)
        limit = row_limit(names, values)
        calls = plan_calls(resource, names, values, self.max_per_page, limit=limit)
        statement = self.statement
        self._joins.filtered(resource, statement, names, values, calls, nested=self._in_key_query)
        return account_pages(
            resource, calls, limit, statement, wanted, self.fetchers, self.skip_failed
        )

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
