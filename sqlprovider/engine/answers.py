"""Check each answer against what the spec declares before its records become rows.

A proxy, a load balancer or a broken deployment can answer 200 with the wrong thing: the
record of another id, a page count that never ends, a page repeating an earlier one (that one
is `engine.identities`). SQLite would take those rows as the truth, so the engine checks what
the spec lets it check (the key a keyed call asked for, `meta.total`) and fails with the API's
answer named as the fault, and names the errors of a list read badly: one that changed under
the reader (a rerun fixes it), pages that disagree with their own total (a rerun does not), a
404 that is not the API's own. Imports `engine.plan`, `engine.rows`, `spec` and `errors`.
"""

from __future__ import annotations

from typing import Any

from sqlprovider.engine.plan import Call
from sqlprovider.engine.rows import dig
from sqlprovider.errors import ApiError, ListChangedError, NotFoundError, ResponseError
from sqlprovider.spec import Resource
from sqlprovider.spec.model import EmptyAnswer

#: The most pages one call may read: more than the API's hourly budget of requests for one
#: token (5,000) could never be read anyway, so a longer list is an answer that never ends.
MAX_PAGES = 5_000

_MISSING = dig({}, ("absent",))


def bad_answer(resource: Resource, call: Call, what: str) -> ResponseError:
    """The error for an answer that breaks what the spec declares (the API's fault)."""
    return ResponseError(
        f"{resource.qualified_name}: GET {call.path}: {what}. The API's answer is not what its "
        "documentation promises (a proxy or a broken deployment in between?), so no rows are "
        "returned from it; this is not the query's fault.",
        status=200,
        method="GET",
        url=call.path,
    )


def total_of(resource: Resource, call: Call, body: Any, path: tuple[str, ...]) -> int | None:
    """The list's `meta.total`: None when the answer has none, else a count (never a string).

    Raises:
        ResponseError: a total that is not a whole number of at least 0 (`"3"`, `-1`, `2.5`).
    """
    total = dig(body, path)
    if total is _MISSING or total is None:
        return None
    if type(total) is not int or total < 0:
        raise bad_answer(resource, call, f"{'.'.join(path)} is {total!r}, not a count of records")
    return total


def check_keys(resource: Resource, call: Call, records: list[dict[str, Any]]) -> None:
    """Every record of a keyed call that names its key names the one asked for.

    `GET /v2/droplets/5/backups/policy` answering Droplet 7's policy would otherwise become a
    row with droplet_id 7 for a query that asked for 5 (SQLite does not re-check an exact key).

    Raises:
        ResponseError: a record holds another key value than the call's.
    """
    names = call.method.path_params
    if not names or not records:
        return
    for column in resource.columns:
        if column.parameter not in names or not column.path or column.scope != "record":
            continue
        asked = call.echo.get(column.parameter)
        for record in records:
            value = dig(record, column.path)
            if value is _MISSING or value is None or _same(value, asked):
                continue
            raise bad_answer(
                resource,
                call,
                f"asked for {column.parameter} {asked!r}, the answer holds a record for {value!r}",
            )


def _same(value: Any, asked: Any) -> bool:
    if isinstance(asked, str) and isinstance(value, str):
        return value.lower() == asked.lower()
    return bool(value == asked) and type(value) is not bool


def empty_answer(
    resource: Resource, call: Call, exc: ApiError, base_url: str
) -> EmptyAnswer | None:
    """The spec's "no rows" rule an error answer matches (its notice), else None.

    Raises:
        NotFoundError: a 404 that is not the API's own answer for a missing object (its
            error id differs, or there is no JSON body: a proxy, a wrong base URL).
    """
    method = call.method
    rule = method.empty_answer(exc.status, exc.api_id, exc.api_message)
    if rule is not None:
        return rule
    if isinstance(exc, NotFoundError) and any(r.status == 404 for r in method.empty_on):
        expected = next(r.error_id for r in method.empty_on if r.status == 404)
        raise NotFoundError(
            f"{resource.qualified_name}: {exc} That 404 is not the API's answer for a missing "
            f"object (error id {exc.api_id!r}, not {expected!r}), so it is not read as zero "
            f"rows: check the API URL ({base_url}) and any proxy in between.",
            status=exc.status,
            method=exc.method,
            url=exc.url,
            request_id=exc.request_id,
            api_id=exc.api_id,
            api_message=exc.api_message,
        ) from exc
    return None


def miscounted(
    resource: Resource, call: Call, total: int, number: int, held: int, expected: int
) -> ResponseError:
    """The error for a page holding another number of records than a steady total implies."""
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


def changed(resource: Resource, call: Call, what: str) -> ListChangedError:
    """The error for a list that changed while it was read (a rerun reads it afresh)."""
    return ListChangedError(
        f"{resource.qualified_name}: the list at {call.path} changed while it was being read "
        f"({what}); "
        "rows could be missing or repeated, so the statement stops rather than return them. "
        "Run it again."
    )
