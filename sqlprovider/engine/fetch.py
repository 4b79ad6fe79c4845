"""Run a statement's calls in parallel and stream their records in a stable order.

Every call's first page starts at once (bounded by the pool), so an IN list of 200 Droplets costs
about 200 / concurrency round trips. A paginated list reads page 1, learns `meta.total`, then
keeps a window of later pages in flight while the caller consumes earlier ones: rows stream as
pages arrive and memory holds a few pages, not the whole result. A list that changes while it
is read (its total moves) fails the statement instead of returning a subset or duplicates, and
says to run it again; pages that do not add up to a total that stays put are the API's own
inconsistency, which a rerun would not fix, and fail saying what was seen. Every answer is
checked (`answers`): its shape, the key a keyed call asked for, a repeated identity, a total
that is not a count, a page count beyond any real list. A list whose total stays put can
still lose a record to a delete plus a create between two page reads (offset pagination shifts
it onto a page already read): the first page is read once more alongside the last window, and
a first page that changed fails the statement. Imports `http`, `engine.*`, `spec` and `errors`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Hashable, Iterator
from typing import TYPE_CHECKING, Any

from sqlprovider.engine.answers import MAX_PAGES, Identities, bad_answer, check_keys, total_of
from sqlprovider.engine.estimate import FROM_TOTAL, MADE, NO_TOTAL, PER_KEY, SKIPPED, Collector
from sqlprovider.engine.plan import Call
from sqlprovider.engine.rows import dig, records_of
from sqlprovider.engine.statement import Statement
from sqlprovider.errors import (
    ApiError,
    ListChangedError,
    NotFoundError,
    OperationalError,
    ResponseError,
)
from sqlprovider.http import ApiClient
from sqlprovider.http.inflight import MAX_IN_FLIGHT
from sqlprovider.spec import Pagination, Resource

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

#: One page ready for the cursor: (its records, the whole response body, echoed parameters).
#: Pages rather than records travel through the generators: per-row overhead is the hot path.
Page = tuple[list[dict[str, Any]], Any, dict[str, Any]]


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
                estimate.count(_endpoint(call), 1, PER_KEY)
                skipped: Future[Any] = Future()
                skipped.set_result(SKIPPED)
                return skipped
            # A fresh cached answer is parsed right here: a worker thread would only add a
            # hand-off (and contention for the GIL) to a scan that is pure computation.
            payload = self.client.cached(call.path, query, stats=statement.stats)
            bounded = key if retain == "bounded" else None
            if payload is None:
                if estimate is not None:
                    estimate.count(_endpoint(call), 1, MADE)
                return self.pool.submit(self._get, resource, call.path, query, statement, bounded)
            if bounded is not None:
                statement.keep_in_flight_only(key)  # the response cache keeps it already
            done: Future[Any] = Future()
            done.set_result(payload)
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
    ) -> Any:
        if statement.cancel.is_set():
            raise interrupted()
        try:
            payload, size = self.client.get_sized(
                path,
                query,
                stats=statement.stats,
                cancel=statement.cancel,
                budget=statement.waits,
                abort=statement.abandon,
            )
            if bounded is not None:
                statement.admit(bounded, size)
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
                yield from self.call_pages(resource, call, first, statement)
        finally:
            for future in firsts:
                future.cancel()

    def _limited(
        self, resource: Resource, calls: list[Call], statement: Statement, row_limit: int
    ) -> Iterator[Page]:
        produced = 0
        for call in calls:
            first = self.start(resource, call, statement, first_page(call))
            for page in self.call_pages(resource, call, first, statement, window=1):
                yield page
                produced += len(page[0])
                if produced >= row_limit:
                    return

    def call_pages(
        self,
        resource: Resource,
        call: Call,
        first: Future[Any],
        statement: Statement,
        window: int | None = None,
        recheck: bool = True,
    ) -> Generator[Page, None, None]:
        """Every page of one call, starting from the future of its first; later pages are
        started only when the caller asks past the first.

        Args:
            recheck: read the first page again with the last window of a multi-page list, to
                see a record lost to a delete plus a create between page reads (a caller that
                confirms what it misses another way passes False).
        """
        try:
            body = outcome(first)
        except ApiError as exc:
            if not self._is_empty_answer(resource, call, exc, statement):
                raise
            return
        if body is SKIPPED:
            return
        where = call.path
        records = list(records_of(body, call.method, where))
        check_keys(resource, call, records)
        yield records, body, call.echo
        if not call.method.paginated or call.page is not None:
            return
        total = total_of(resource, call, body, self.pagination.total)
        if statement.estimate is not None and resource.qualified_name not in (
            statement.retained_sources or ()
        ):
            # Estimating, and no join needs this list's values: count its pages, send none.
            self._count_later_pages(call, statement.estimate, body, total)
            return
        identities = Identities(resource, call)
        identities.add(1, records)
        if total is not None and call.per_page:
            yield from self._later_pages(
                resource,
                call,
                statement,
                total,
                len(records),
                window or self.window,
                identities,
                recheck,
            )
        else:
            yield from self._follow_links(resource, call, statement, body, identities)

    def _is_empty_answer(
        self, resource: Resource, call: Call, exc: ApiError, statement: Statement
    ) -> bool:
        """Whether an error answer is one the spec declares as "no rows"; notes it if so.

        Raises:
            NotFoundError: a 404 that is not the API's own answer for a missing object (its
                error id differs, or there is no JSON body: a proxy, a wrong base URL).
        """
        method = call.method
        rule = method.empty_answer(exc.status, exc.api_id, exc.api_message)
        if rule is not None:
            keys = ", ".join(f"{name} {call.echo.get(name)}" for name in method.path_params)
            statement.note(f"{resource.qualified_name}: {keys or call.path}: {rule.notice}, 0 rows")
            return True
        if isinstance(exc, NotFoundError) and any(r.status == 404 for r in method.empty_on):
            expected = next(r.error_id for r in method.empty_on if r.status == 404)
            raise NotFoundError(
                f"{resource.qualified_name}: {exc} That 404 is not the API's answer for a missing "
                f"object (error id {exc.api_id!r}, not {expected!r}), so it is not read as zero "
                f"rows: check the API URL ({self.client.base_url}) and any proxy in between.",
                status=exc.status,
                method=exc.method,
                url=exc.url,
                request_id=exc.request_id,
                api_id=exc.api_id,
                api_message=exc.api_message,
            ) from exc
        return False

    def _later_pages(
        self,
        resource: Resource,
        call: Call,
        statement: Statement,
        total: int,
        seen: int,
        window: int,
        identities: Identities,
        recheck: bool,
    ) -> Iterator[Page]:
        assert call.per_page is not None
        last_page = max(1, math.ceil(total / call.per_page))
        if last_page > self.max_pages:
            raise bad_answer(
                resource,
                call,
                f"{'.'.join(self.pagination.total)} is {total}, {last_page} pages at "
                f"{call.per_page} per page: more than the {self.max_pages} one statement may "
                "read (more than the API's hourly request budget)",
            )
        pending: deque[tuple[int, Future[Any]]] = deque()
        again: Future[Any] | None = None
        # Cached answers are a snapshot already: reading page 1 again would read the cache.
        cached = self.client.cache_ttl > 0
        next_page = 2
        try:
            while pending or next_page <= last_page:
                while next_page <= last_page and len(pending) < window:
                    pending.append((next_page, self.start(resource, call, statement, next_page)))
                    next_page += 1
                if again is None and recheck and next_page > last_page > 1 and not cached:
                    again = self._fresh(resource, call, statement, 1)
                number, future = pending.popleft()
                body = outcome(future)
                now_total = total_of(resource, call, body, self.pagination.total)
                if now_total != total:
                    raise _changed(
                        resource,
                        call,
                        f"meta.total went from {total} to {now_total} by page {number}",
                    )
                records = list(records_of(body, call.method, call.path))
                expected = min(call.per_page, total - (number - 1) * call.per_page)
                if len(records) != expected:
                    # The total did not move, so nothing was added or removed: a rerun would
                    # read the same disagreement.
                    raise _miscounted(resource, call, total, number, len(records), expected)
                check_keys(resource, call, records)
                identities.add(number, records)
                seen += len(records)
                yield records, body, call.echo
            if again is not None:
                self._same_first_page(resource, call, outcome(again), total, identities)
                again = None
        finally:
            for _, future in pending:
                future.cancel()
            if again is not None:
                again.cancel()
        if seen != total:
            raise _changed(
                resource, call, f"the pages held {seen} records but meta.total said {total}"
            )

    def _fresh(
        self, resource: Resource, call: Call, statement: Statement, page: int
    ) -> Future[Any]:
        """A second request for one page: its own memo entry, as the first read holds the other
        (a join's key query and its outer loop read the same list: one second read serves both).
        """
        key, query = self.request_of(call, page)
        retain: bool | str = resource.qualified_name in (statement.retained_sources or ())
        # A join rescanning the list reads the pages it kept: the check they passed holds.
        bounded = None if retain else ("again", key)

        def submit() -> Future[Any]:
            if statement.estimate is not None:
                statement.estimate.count(_endpoint(call), 1, MADE)
            return self.pool.submit(self._get, resource, call.path, query, statement, bounded)

        return statement.shared(("again", key), submit, retain=retain or "bounded")

    def _same_first_page(
        self, resource: Resource, call: Call, body: Any, total: int, identities: Identities
    ) -> None:
        """Fail when the first page read again differs from its first read (same total)."""
        records = list(records_of(body, call.method, call.path))
        again = Identities(resource, call)
        again.add(1, records)
        now_total = total_of(resource, call, body, self.pagination.total)
        if now_total == total and again.first == identities.first:
            return
        raise _changed(
            resource,
            call,
            "its first page, read again after the last, no longer holds the same records "
            f"(meta.total {total}, then {now_total}): a record was removed and another added "
            "between page reads, which shifts records across pages",
        )

    def _follow_links(
        self,
        resource: Resource,
        call: Call,
        statement: Statement,
        body: Any,
        identities: Identities,
    ) -> Iterator[Page]:
        """For a list without `meta.total`: read page after page while a next link is given.

        Bounded: a page repeating an identity fails (a link back to an earlier page), and so
        do an empty page that still links onwards and more pages than `max_pages`.
        """
        page = 1
        while isinstance(dig(body, self.pagination.next_link), str):
            if page >= self.max_pages:
                raise bad_answer(
                    resource, call, f"a next link on every one of {page} pages; the list never ends"
                )
            page += 1
            body = outcome(self.start(resource, call, statement, page))
            records = list(records_of(body, call.method, call.path))
            if not records and isinstance(dig(body, self.pagination.next_link), str):
                raise bad_answer(resource, call, f"page {page} is empty yet links to a next page")
            check_keys(resource, call, records)
            identities.add(page, records)
            yield records, body, call.echo

    def _count_later_pages(self, call: Call, estimate: Collector, body: Any, total: Any) -> None:
        if isinstance(total, int) and call.per_page:
            later = max(0, math.ceil(total / call.per_page) - 1)
            if later and self.client.cache_ttl <= 0:
                later += 1  # page 1 read again with the last pages (see `_same_first_page`)
            estimate.count(_endpoint(call), later, FROM_TOTAL)
        elif isinstance(dig(body, self.pagination.next_link), str):
            estimate.count(_endpoint(call), 1, NO_TOTAL)


def _endpoint(call: Call) -> str:
    """How an estimate names the endpoint: verb and path template."""
    return f"{call.method.verb} {call.method.path}"


def outcome(future: Future[Any]) -> Any:
    """The body a request's future holds, waiting for it; an interrupt is a sqlprovider error.

    Raises:
        OperationalError: the statement was interrupted (or ended) before the request finished;
            a queued future cancelled by `Statement.finish` raises this, never the raw
            `concurrent.futures.CancelledError`.
    """
    from concurrent.futures import CancelledError

    try:
        return future.result()
    except (CancelledError, InterruptedError) as exc:
        raise interrupted() from exc


def interrupted() -> OperationalError:
    """The error of a request stopped because its statement was interrupted or had ended."""
    return OperationalError("the statement was interrupted; its pending API requests were dropped")


def first_page(call: Call) -> int | None:
    if not call.method.paginated:
        return None
    return call.page if call.page is not None else 1


def _miscounted(
    resource: Resource, call: Call, total: int, number: int, held: int, expected: int
) -> ResponseError:
    return ResponseError(
        f"{resource.qualified_name}: GET {call.path}: meta.total said {total} on every page "
        f"read, but page {number} held {held} records where {expected} were due at "
        f"{call.per_page} per page. The API's count and its items disagree, so the rows cannot "
        "be known to be complete and none are returned; this is the API's answer, not the "
        "query's fault. Single pages can still be read as the API gives them, with "
        f"page = N (and per_page = {call.per_page}).",
        status=200,
        method="GET",
        url=call.path,
    )


def _changed(resource: Resource, call: Call, what: str) -> ListChangedError:
    return ListChangedError(
        f"{resource.qualified_name}: the list at {call.path} changed while it was being read "
        f"({what}); "
        "rows could be missing or repeated, so the statement stops rather than return them. "
        "Run it again."
    )
