"""Run a statement's calls in parallel and stream their pages in a stable order.

Every call's first page starts at once (bounded by the pool), so an IN list of 200 Droplets costs
about 200 / concurrency round trips. Each request goes through the statement's memo (an
identical call is made once) and the account's client, on a bounded thread pool; how the pages
of one list are read and checked is `engine.pages`, what each answer must hold `engine.answers`.
Imports `http`, `engine.*`, `spec` and `errors`.
"""

from __future__ import annotations

import mmap
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

from sqlprovider.engine.answers import MAX_PAGES
from sqlprovider.engine.estimate import MADE, PER_KEY, SKIPPED
from sqlprovider.engine.pages import (
    Cacheable,
    Page,
    call_pages,
    endpoint,
    first_page,
    interrupted,
)
from sqlprovider.engine.plan import Call
from sqlprovider.engine.statement import Statement
from sqlprovider.errors import ApiError
from sqlprovider.http import ApiClient
from sqlprovider.http.inflight import MAX_IN_FLIGHT
from sqlprovider.http.payload import Unparsed
from sqlprovider.spec import Pagination, Resource

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor


class Fetcher:
    """Issues the calls of one account through its `ApiClient` on a bounded thread pool.

    Args:
        client: the account's HTTP access (its token).
        max_workers: parallel calls of this account (the process-wide cap applies on top).
        pagination: the provider's paging rules.
        window: later pages kept in flight per list.
        account: the account's name: part of every memo key, and named in errors when
            `name_errors` (a connection with several accounts).
    """

    def __init__(
        self,
        client: ApiClient,
        max_workers: int,
        pagination: Pagination,
        window: int,
        account: str = "default",
        name_errors: bool = False,
    ) -> None:
        self.client = client
        self.account = account
        self.name_errors = name_errors
        self.max_workers = min(max_workers, MAX_IN_FLIGHT)
        self._pool: ThreadPoolExecutor | None = None
        self.pagination = pagination
        self.window = max(1, window)
        self.max_pages = MAX_PAGES

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The worker threads; `concurrent.futures` loads only when a statement needs the API."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(
                max_workers=self.max_workers, thread_name_prefix="sqlprovider"
            )
        return self._pool

    def close(self) -> None:
        """Stop the workers; queued calls are cancelled."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def start(
        self,
        resource: Resource,
        call: Call,
        statement: Statement,
        page: int | None,
        *,
        reads: int | None = None,
    ) -> Future[Any]:
        """Start (or join) the request for one page of `call`; its future holds the body.

        Args:
            reads: how many reads of this answer the statement will make (a join's prefetch
                knows it from its outer rows); after the last it is let go.
        """
        key, query = self.request_of(call, page)
        source = resource.qualified_name in (statement.retained_sources or ())
        if source and reads is None and not call.method.path_params:
            # A join's key source is read twice, by the join's key query and by its outer
            # scan; after the second read no call of the statement needs the page again.
            reads = 1
        # A keyed answer is kept (its failure too, so a key is never asked twice) until its
        # last expected read; an unkeyed list page within the statement's byte bound.
        retain: bool | str = bool(call.method.path_params) or source or "bounded"
        estimate = statement.estimate

        def submit() -> Future[Any]:
            from concurrent.futures import Future

            if estimate is not None and call.method.path_params:
                # Estimating: a keyed call is counted, not sent (see engine.estimate).
                estimate.count(endpoint(call), 1, PER_KEY)
                skipped: Future[Any] = Future()
                skipped.set_result(SKIPPED)
                return skipped
            # A fresh cached answer is parsed right here: a worker thread would only add a
            # hand-off (and contention for the GIL) to a scan that is pure computation.
            hit = self.client.cached(call.path, query, stats=statement.stats)
            bounded = key if retain == "bounded" else None
            if hit is None:
                if estimate is not None:
                    estimate.count(endpoint(call), 1, MADE)
                return self.pool.submit(self._get, resource, call.path, query, statement, bounded)
            if bounded is not None:
                statement.keep_in_flight_only(key)  # the response cache keeps it already
            payload, stored = hit
            done: Future[Any] = Future()
            done.set_result(Cacheable(payload, stored))
            return done

        future = statement.shared(key, submit, retain=retain)
        if reads is not None:
            statement.expect_reads(key, reads)
        return future

    def request_of(self, call: Call, page: int | None) -> tuple[Hashable, dict[str, Any]]:
        """The statement-memo key and the query parameters of one page of `call`.

        The key holds everything that makes the answer: the client's API URL and token
        fingerprint as well as the path and query.
        """
        query: dict[str, Any] = dict(call.query)
        if page is not None:
            query[self.pagination.page_param] = page
        if call.per_page is not None:
            query[self.pagination.per_page_param] = call.per_page
        # The account and the client's identity (API URL, token fingerprint) are part of the key:
        # two accounts (or servers) asking the same path are two questions.
        return (self.account, self.client.identity, call.path, tuple(sorted(query.items()))), query

    def _get(
        self,
        resource: Resource,
        path: str,
        query: dict[str, Any],
        statement: Statement,
        bounded: Hashable | None = None,
        defer: bool = True,
    ) -> Any:
        """The answer of one request, run on a worker. A large body comes back `Unparsed`
        (unless `defer` is False): the cursor's thread parses it (`http.payload` says why)."""
        if statement.cancel.is_set():
            raise interrupted()
        try:
            payload, body = self.client.get_answer(
                path,
                query,
                stats=statement.stats,
                cancel=statement.cancel,
                budget=statement.waits,
                abort=statement.abandon,
                parse_large=not defer,
            )
            if bounded is not None:
                statement.admit(bounded, len(body))
            if isinstance(payload, mmap.mmap):
                return Unparsed(
                    payload, lambda: self._get(resource, path, query, statement, defer=False)
                )
            if defer and self.client.cache_ttl > 0 and isinstance(body, bytes):
                # The response cache keeps these bytes: so may the rows built from them. (Not
                # for `Unparsed`'s reload, which stands in for a parsed payload.)
                return Cacheable(payload, body)
            return payload
        except ApiError as exc:
            hint = resource.error_hints.get(exc.status or 0)
            if hint and hint not in str(exc):
                exc.args = (f"{resource.qualified_name}: {exc.args[0]} {hint}",)
            if self.name_errors and not str(exc).startswith("account "):
                exc.args = (f"account {self.account!r}: {exc.args[0]}",)
            raise

    def stream(
        self,
        resource: Resource,
        calls: list[Call],
        statement: Statement,
        row_limit: int | None = None,
    ) -> Iterator[Page]:
        """The records of every call, page by page, call by call.

        Every call's first page is started before this returns (not when the iterator is first
        read), so the calls of several accounts run at once. With a `row_limit` (a LIMIT the
        plan may honour), calls and pages are started one at a time and only while rows are
        still wanted: the fewest requests, at the cost of overlap.
        """
        if row_limit is not None:
            return self._limited(resource, calls, statement, row_limit)
        firsts = [self.start(resource, call, statement, first_page(call)) for call in calls]
        return self._pages_of(resource, calls, firsts, statement)

    def _pages_of(
        self,
        resource: Resource,
        calls: list[Call],
        firsts: list[Future[Any]],
        statement: Statement,
    ) -> Iterator[Page]:
        try:
            for call, first in zip(calls, firsts, strict=True):
                yield from call_pages(self, resource, call, first, statement)
        finally:
            for future in firsts:
                future.cancel()

    def _limited(
        self, resource: Resource, calls: list[Call], statement: Statement, row_limit: int
    ) -> Iterator[Page]:
        produced = 0
        for call in calls:
            first = self.start(resource, call, statement, first_page(call))
            for page in call_pages(self, resource, call, first, statement, window=1):
                yield page
                produced += len(page[0])
                if produced >= row_limit:
                    return

    def fresh(self, resource: Resource, call: Call, statement: Statement, page: int) -> Future[Any]:
        """A second request for one page: its own memo entry, as the first read holds the other
        (a join's key query and its outer loop read the same list: one second read serves both).
        """
        key, query = self.request_of(call, page)
        retain: bool | str = resource.qualified_name in (statement.retained_sources or ())
        # A join rescanning the list reads the pages it kept: the check they passed holds.
        bounded = None if retain else ("again", key)

        def submit() -> Future[Any]:
            if statement.estimate is not None:
                statement.estimate.count(endpoint(call), 1, MADE)
            return self.pool.submit(self._get, resource, call.path, query, statement, bounded)

        future = statement.shared(("again", key), submit, retain=retain or "bounded")
        if retain:
            # Read by the key query and by the outer scan, as the pages are: then let go.
            statement.expect_reads(("again", key), 1)
        return future
