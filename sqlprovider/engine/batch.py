"""Answer many keyed gets from the resource's list, when that takes fewer requests.

`droplets JOIN droplet_backup_policies ON droplet_id = id` asks for one policy per Droplet, yet
one page of the policies list holds 200 of them. For a method the spec marks `batch_with: list`,
the engine reads the list's first page, answers every key found there, and then compares: the
list's remaining pages against one get per key still missing, and takes the cheaper. A key the
whole list lacks gets its own get all the same: a record can shift across a page boundary
while the list is read (a delete plus a create), so only the get's 404 says it is absent. So
the requests made are never more than one above the plain gets (plus one per key absent from
the list), and for most joins far fewer. The answers go into the
statement's memo, where the Filter calls for each key find them. Imports `engine.*`, `spec`,
`errors`.
"""

from __future__ import annotations

import math
from typing import Any

from sqlprovider.engine.fetch import Fetcher
from sqlprovider.engine.pages import call_pages, first_page
from sqlprovider.engine.plan import Call, plan_calls
from sqlprovider.engine.rows import dig
from sqlprovider.engine.statement import Statement
from sqlprovider.spec import Method, Resource


def answer_from_list(
    fetcher: Fetcher, resource: Resource, calls: list[Call], statement: Statement
) -> list[Call]:
    """Answer what the list answers more cheaply; return the calls still to make one by one."""
    method = calls[0].method if calls else None
    if method is None or method.batch_with is None or len(calls) < 2:
        return calls
    listing = _list_call(resource, method.batch_with, fetcher.pagination.max_per_page)
    if listing is None:
        return calls
    key = method.path_params[0]
    column = next(c for c in resource.columns if c.parameter == key)
    wanted = {call.echo[key]: call for call in calls}
    first = fetcher.start(resource, listing, statement, 1)
    # No second read of page 1: a key shifted out of the pages read is confirmed by its get.
    pages = call_pages(fetcher, resource, listing, first, statement, recheck=False)
    for number, (records, body, _, _) in enumerate(pages, start=1):
        for record in records:
            call = wanted.pop(dig(record, column.path), None)
            if call is not None:
                _answer(fetcher, statement, call, _as_get_payload(method, record))
        total = dig(body, fetcher.pagination.total)
        if number == 1 and isinstance(total, int) and listing.per_page:
            left = math.ceil(total / listing.per_page) - 1
            if left >= len(wanted):  # one get per missing key is no dearer: stop here
                pages.close()
                return list(wanted.values())
    # The whole list lacks them. Offset pagination can shift a record across a page boundary
    # when another is deleted and one created between page reads, so a key the list lacks is
    # confirmed by its own get (the API's 404 says "absent") rather than assumed absent.
    return list(wanted.values())


def _list_call(resource: Resource, name: str, max_per_page: int) -> Call | None:
    """The single unfiltered call of the resource's list method, if that is what it takes."""
    calls = plan_calls(resource, [], [], max_per_page)
    if len(calls) != 1 or calls[0].method.name != name:
        return None
    return calls[0]


def _as_get_payload(method: Method, record: dict[str, Any]) -> Any:
    """The body the keyed get would have answered: the record at the method's records path."""
    payload: Any = record
    for step in reversed(method.records):
        payload = {step: payload}
    return payload


def _answer(fetcher: Fetcher, statement: Statement, call: Call, outcome: Any) -> None:
    from concurrent.futures import Future

    future: Future[Any] = Future()
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
    key, _ = fetcher.request_of(call, first_page(call))
    statement.answer(key, future)
