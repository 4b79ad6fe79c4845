"""Read every page of one list call, checking that the pages add up to one list.

A paginated list reads page 1, learns `meta.total`, then keeps a window of later pages in
flight while the caller consumes earlier ones: rows stream as pages arrive and memory holds a
few pages, not the whole result. A list that changes while it is read (its total moves) fails
the statement instead of returning a subset or duplicates, and says to run it again; pages
that do not add up to a total that stays put are the API's own inconsistency, which a rerun
would not fix, and fail saying what was seen. A list whose total stays put can still lose a
record to a delete plus a create between two page reads (offset pagination shifts it onto a
page already read): the first page is read once more alongside the last window, and a first
page that changed fails the statement. A list without a total follows its next links, bounded.
The requests themselves are the `Fetcher`'s. Imports `engine.*`, `spec` and `errors`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from sqlprovider.engine.answers import (
    bad_answer,
    changed,
    check_keys,
    empty_answer,
    miscounted,
    total_of,
)
from sqlprovider.engine.estimate import FROM_TOTAL, NO_TOTAL, SKIPPED, Collector
from sqlprovider.engine.identities import Identities
from sqlprovider.engine.plan import Call
from sqlprovider.engine.rows import dig, records_of
from sqlprovider.engine.statement import Statement
from sqlprovider.errors import ApiError, OperationalError
from sqlprovider.http.payload import Body, Unparsed
from sqlprovider.spec import Resource

if TYPE_CHECKING:
    from concurrent.futures import Future

    from sqlprovider.engine.fetch import Fetcher

#: Later pages in flight for a list read at a join's pace: its nested loop makes a keyed call
#: per record, so two pages ahead never keep it waiting, and more would only wait in memory.
PACED_WINDOW = 2

#: One page ready for the cursor: (its records, the whole response body, echoed parameters,
#: the bytes the response cache keeps for it, else None: see `engine.rows_memo`).
#: Pages rather than records travel through the generators: per-row overhead is the hot path.
Page = tuple[list[dict[str, Any]], Any, dict[str, Any], bytes | None]


class Cacheable:
    """What a request's future holds when the response cache keeps the answer (it served it,
    or stores it for `cache_ttl`): the parsed JSON and the bytes it was parsed from.

    Only bytes key the rows memo: a large body's mmap is not hashable (and is rare), so it
    is kept as None.
    """

    __slots__ = ("payload", "stored")

    def __init__(self, payload: Any, stored: Body) -> None:
        self.payload = payload
        self.stored = stored if isinstance(stored, bytes) else None


def first_page(call: Call) -> int | None:
    """The page a call starts with: its own `page`, 1 for a paginated list, else None."""
    if not call.method.paginated:
        return None
    return call.page if call.page is not None else 1


def outcome(future: Future[Any]) -> Any:
    """The body a request's future holds, waiting for it; an interrupt is a sqlprovider error.

    Raises:
        OperationalError: the statement was interrupted (or ended) before the request finished;
            a queued future cancelled by `Statement.finish` raises this, never the raw
            `concurrent.futures.CancelledError`.
    """
    from concurrent.futures import CancelledError

    try:
        body = future.result()
    except (CancelledError, InterruptedError) as exc:
        raise interrupted() from exc
    if isinstance(body, Cacheable):
        return body.payload
    # A large body was left for this thread to parse (see `http.payload`).
    return body.value() if isinstance(body, Unparsed) else body


def stored_bytes(future: Future[Any]) -> bytes | None:
    """The bytes the response cache keeps for a finished request's answer (else None)."""
    body = future.result()
    return body.stored if isinstance(body, Cacheable) else None


def interrupted() -> OperationalError:
    """The error of a request stopped because its statement was interrupted or had ended."""
    return OperationalError("the statement was interrupted; its pending API requests were dropped")


def endpoint(call: Call) -> str:
    """How an estimate names the endpoint: verb and path template."""
    return f"{call.method.verb} {call.method.path}"


def call_pages(
    fetcher: Fetcher,
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
        window: later pages kept in flight (by default the fetcher's own, or `PACED_WINDOW`
            for a list a join reads at its nested loop's pace).
        recheck: read the first page again with the last window of a multi-page list, to
            see a record lost to a delete plus a create between page reads (a caller that
            confirms what it misses another way passes False).
    """
    try:
        body = outcome(first)
    except ApiError as exc:
        rule = empty_answer(resource, call, exc, fetcher.client.base_url)
        if rule is None:
            raise
        keys = ", ".join(f"{name} {call.echo.get(name)}" for name in call.method.path_params)
        statement.note(f"{resource.qualified_name}: {keys or call.path}: {rule.notice}, 0 rows")
        return
    if body is SKIPPED:
        return
    records = records_of(body, call.method, call.path)
    check_keys(resource, call, records)
    yield records, body, call.echo, stored_bytes(first)
    if not call.method.paginated or call.page is not None:
        return
    total = total_of(resource, call, body, fetcher.pagination.total)
    if statement.estimate is not None and resource.qualified_name not in (
        statement.retained_sources or ()
    ):
        # Estimating, and no join needs this list's values: count its pages, send none.
        _count_later_pages(fetcher, call, statement.estimate, body, total)
        return
    identities = Identities(resource, call)
    identities.add(1, records)
    if window is None:
        paced = resource.qualified_name in statement.paced_sources
        window = PACED_WINDOW if paced else fetcher.window
    if total is not None and call.per_page:
        yield from _later_pages(
            fetcher,
            resource,
            call,
            statement,
            total,
            len(records),
            window,
            identities,
            recheck,
        )
    else:
        yield from _follow_links(fetcher, resource, call, statement, body, identities)


def _later_pages(
    fetcher: Fetcher,
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
    if last_page > fetcher.max_pages:
        raise bad_answer(
            resource,
            call,
            f"{'.'.join(fetcher.pagination.total)} is {total}, {last_page} pages at "
            f"{call.per_page} per page: more than the {fetcher.max_pages} one statement may "
            "read (more than the API's hourly request budget)",
        )
    pending: deque[tuple[int, Future[Any]]] = deque()
    again: Future[Any] | None = None
    # Cached answers are a snapshot already: reading page 1 again would read the cache.
    cached = fetcher.client.cache_ttl > 0
    next_page = 2
    try:
        while pending or next_page <= last_page:
            while next_page <= last_page and len(pending) < window:
                pending.append((next_page, fetcher.start(resource, call, statement, next_page)))
                next_page += 1
            if again is None and recheck and next_page > last_page > 1 and not cached:
                again = fetcher.fresh(resource, call, statement, 1)
            number, future = pending.popleft()
            body = outcome(future)
            now_total = total_of(resource, call, body, fetcher.pagination.total)
            if now_total != total:
                raise changed(
                    resource, call, f"meta.total went from {total} to {now_total} by page {number}"
                )
            records = records_of(body, call.method, call.path)
            expected = min(call.per_page, total - (number - 1) * call.per_page)
            if len(records) != expected:
                # The total did not move, so nothing was added or removed: a rerun would
                # read the same disagreement.
                raise miscounted(resource, call, total, number, len(records), expected)
            check_keys(resource, call, records)
            identities.add(number, records)
            seen += len(records)
            yield records, body, call.echo, stored_bytes(future)
        if again is not None:
            _same_first_page(fetcher, resource, call, outcome(again), total, identities)
            again = None
    finally:
        for _, future in pending:
            future.cancel()
        if again is not None:
            again.cancel()
    if seen != total:
        raise changed(resource, call, f"the pages held {seen} records but meta.total said {total}")


def _same_first_page(
    fetcher: Fetcher, resource: Resource, call: Call, body: Any, total: int, identities: Identities
) -> None:
    """Fail when the first page read again differs from its first read (same total)."""
    records = records_of(body, call.method, call.path)
    again = Identities(resource, call)
    again.add(1, records)
    now_total = total_of(resource, call, body, fetcher.pagination.total)
    if now_total == total and again.first == identities.first:
        return
    raise changed(
        resource,
        call,
        "its first page, read again after the last, no longer holds the same records "
        f"(meta.total {total}, then {now_total}): a record was removed and another added "
        "between page reads, which shifts records across pages",
    )


def _follow_links(
    fetcher: Fetcher,
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
    next_link = fetcher.pagination.next_link
    page = 1
    while isinstance(dig(body, next_link), str):
        if page >= fetcher.max_pages:
            raise bad_answer(
                resource, call, f"a next link on every one of {page} pages; the list never ends"
            )
        page += 1
        future = fetcher.start(resource, call, statement, page)
        body = outcome(future)
        records = records_of(body, call.method, call.path)
        if not records and isinstance(dig(body, next_link), str):
            raise bad_answer(resource, call, f"page {page} is empty yet links to a next page")
        check_keys(resource, call, records)
        identities.add(page, records)
        yield records, body, call.echo, stored_bytes(future)


def _count_later_pages(
    fetcher: Fetcher, call: Call, estimate: Collector, body: Any, total: Any
) -> None:
    """Estimating: count the pages a list would read after its first (see `engine.estimate`)."""
    if isinstance(total, int) and call.per_page:
        later = max(0, math.ceil(total / call.per_page) - 1)
        if later and fetcher.client.cache_ttl <= 0:
            later += 1  # page 1 read again with the last pages (see `_same_first_page`)
        estimate.count(endpoint(call), later, FROM_TOTAL)
    elif isinstance(dig(body, fetcher.pagination.next_link), str):
        estimate.count(endpoint(call), 1, NO_TOTAL)
