"""What every route of the emulated API shares: replies, errors, the request, and pagination.

`page_params` checks `page` and `per_page` as the spec bounds them (and refuses absurd page
numbers with a message naming the bound); `paged` wraps one page with `links` and `meta`.
Imports nothing from sqlprovider.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 20
#: The spec bounds `page` only below; beyond this no account has records, and a bound keeps
#: `page * per_page` arithmetic small. Such a page is refused with a message saying so.
MAX_PAGE = 10_000_000
_DROPLET_ID = re.compile(r"[1-9][0-9]{0,18}")
_ACTION_ID = _DROPLET_ID


@dataclass(frozen=True)
class Reply:
    """An answer: HTTP status, JSON-ready body and any extra headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    routed: bool = True  # False: no route matched the path (the sandbox does not serve it)


def error(status: int, error_id: str, message: str) -> Reply:
    """Build an error reply with the API's `{id, message}` body (the server adds `request_id`)."""
    return Reply(status, {"id": error_id, "message": message})


NOT_FOUND = "The resource you requested could not be found."


def not_found() -> Reply:
    """Return the API's 404 reply."""
    return error(404, "not_found", NOT_FOUND)


def unprocessable(message: str) -> Reply:
    """Return a 422 reply."""
    return error(422, "unprocessable_entity", message)


@dataclass(frozen=True)
class Request:
    """A parsed request as the routes see it."""

    path: str
    query: Mapping[str, str]
    body: bytes
    base_url: str
    errored: bool = False  # an action this request starts will end errored (a fault)


def droplet_id(raw: str) -> int | None:
    """The integer id in a path segment, or None when it cannot name anything (a 404)."""
    # The spec declares droplet_id (and action_id) as an integer >= 1.
    return int(raw) if _DROPLET_ID.fullmatch(raw) else None


def page_params(query: Mapping[str, str]) -> tuple[int, int] | Reply:
    """Return (page, per_page) from the query, or a 400 reply for values outside the spec."""
    values = []
    for name, default, high in (
        ("page", 1, MAX_PAGE),
        ("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
    ):
        raw = query.get(name)
        if raw is None:
            values.append(default)
            continue
        if not re.fullmatch(r"[0-9]{1,30}", raw) or not 1 <= int(raw) <= high:
            return error(
                400, "bad_request", f"{name} must be an integer from 1 to {high}, not {raw!r}."
            )
        values.append(int(raw))
    return values[0], values[1]


def paged(
    req: Request, key: str, items: Any, page: int, per_page: int, total: int
) -> dict[str, Any]:
    """Wrap one page of items with `links` (absolute URLs) and `meta.total`."""
    last = max(1, math.ceil(total / per_page))

    def url(number: int) -> str:
        params = dict(req.query)
        params["page"] = str(number)
        return f"{req.base_url}{req.path}?{urlencode(params)}"

    pages: dict[str, str] = {}
    if page > 1:
        pages["first"] = url(1)
        pages["prev"] = url(min(page - 1, last))
    if page < last:
        pages["next"] = url(page + 1)
        pages["last"] = url(last)
    return {key: items, "links": {"pages": pages} if pages else {}, "meta": {"total": total}}


def page_of(req: Request, key: str, items: list[Any]) -> Reply:
    """Reply with one page of a fully built list (or the 400 for bad paging)."""
    paging = page_params(req.query)
    if isinstance(paging, Reply):
        return paging
    page, per_page = paging
    start = (page - 1) * per_page
    return Reply(200, paged(req, key, items[start : start + per_page], page, per_page, len(items)))
