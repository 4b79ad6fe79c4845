"""Routes and answers of the emulated DigitalOcean API v2, without any socket code.

`Api.handle` takes a parsed request (method, path, query, body, base URL) and returns a `Reply`
(status, JSON-ready body, extra headers). It owns pagination (`page`/`per_page` checks, `links`,
`meta`), filters, droplet actions and the error bodies. Authentication, rate limits and faults
are the server's job. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .catalog import REGIONS, RETENTION_DAYS, WEEKDAYS, WINDOW_LENGTH_HOURS, WINDOW_STARTS
from .data import Account
from .lifecycle import ActionBook
from .records import Policy

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 20
_DROPLET_ID = re.compile(r"[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Reply:
    """An answer: HTTP status, JSON-ready body and any extra headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


def error(status: int, error_id: str, message: str) -> Reply:
    """Build an error reply with the API's `{id, message}` body (the server adds `request_id`)."""
    return Reply(status, {"id": error_id, "message": message})


NOT_FOUND = "The resource you requested could not be found."


def not_found() -> Reply:
    """Return the API's 404 reply."""
    return error(404, "not_found", NOT_FOUND)


@dataclass(frozen=True)
class _Request:
    path: str
    query: Mapping[str, str]
    body: bytes
    base_url: str
    errored: bool = False


Handler = Callable[["Api", _Request, str], Reply]


class Api:
    """Answers requests from an `Account`."""

    def __init__(self, account: Account, book: ActionBook | None = None) -> None:
        """Serve `account`; `book` keeps the actions POSTs start (and finishes them)."""
        self.account = account
        self.book = book or ActionBook()

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: bytes,
        base_url: str,
        *,
        errored: bool = False,
    ) -> Reply:
        """Route one request.

        Args:
            method: HTTP method, upper case.
            path: URL path without the query string, e.g. `/v2/droplets/3164444/backups`.
            query: Query parameters (first value of each name), in request order.
            body: Raw request body.
            base_url: `http://host:port` as the client addressed us (for absolute links).
            errored: an action this request starts will end `errored` (a fault).
        """
        self.book.settle()
        if method == "GET":
            read = self.book.answer(
                path, dict(query), lambda i: self.account.droplet(i) is not None
            )
            if read is not None:
                return Reply(*read)
        request = _Request(path, query, body, base_url, errored)
        for route_method, pattern, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if match is not None and route_method == method:
                return handler(self, request, match.group(1) if pattern.groups else "")
        return not_found()

    # --- droplets ---------------------------------------------------------------------------

    def _droplets(self, req: _Request, _: str) -> Reply:
        paging = _page_params(req.query)
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        tag, name, kind = (req.query.get(k) for k in ("tag_name", "name", "type"))
        if tag is not None and (name is not None or kind is not None):
            return error(400, "bad_request", "tag_name cannot be combined with name or type.")
        if kind is not None and kind not in ("droplets", "gpus"):
            return error(400, "bad_request", "type must be one of: droplets, gpus.")
        total, droplets = self.account.droplets_page(
            kind == "gpus", tag, name, (page - 1) * per_page, per_page
        )
        return Reply(200, _paged(req, "droplets", droplets, page, per_page, total))

    def _droplet_backups(self, req: _Request, raw_id: str) -> Reply:
        droplet_id = _droplet_id(raw_id)
        paging = _page_params(req.query)
        if droplet_id is None:
            return not_found()
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        found = self.account.backups_page(droplet_id, (page - 1) * per_page, per_page)
        if found is None:
            return not_found()
        total, backups = found
        return Reply(200, _paged(req, "backups", backups, page, per_page, total))

    def _policies(self, req: _Request, _: str) -> Reply:
        paging = _page_params(req.query)
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        total, policies = self.account.policies_page((page - 1) * per_page, per_page)
        return Reply(200, _paged(req, "policies", policies, page, per_page, total))

    def _supported(self, req: _Request, _: str) -> Reply:
        plans = [
            {
                "name": plan,
                "possible_window_starts": list(WINDOW_STARTS),
                "window_length_hours": WINDOW_LENGTH_HOURS,
                "retention_period_days": RETENTION_DAYS[plan],
                "possible_days": list(WEEKDAYS) if plan == "weekly" else [],
            }
            for plan in ("weekly", "daily")
        ]
        return Reply(200, {"supported_policies": plans})

    def _policy(self, req: _Request, raw_id: str) -> Reply:
        droplet_id = _droplet_id(raw_id)
        record = None if droplet_id is None else self.account.policy(droplet_id)
        return not_found() if record is None else Reply(200, {"policy": record})

    def _action(self, req: _Request, raw_id: str) -> Reply:
        droplet_id = _droplet_id(raw_id)
        record = None if droplet_id is None else self.account.droplet(droplet_id)
        if droplet_id is None or record is None:
            return not_found()
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            return _unprocessable("The request body is not valid JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _unprocessable("The request body must be a JSON object with a string 'type'.")
        action = body["type"]
        current = record.policy
        if action == "disable_backups":
            policy = None
        elif action in ("enable_backups", "change_backup_policy"):
            if action == "change_backup_policy" and current is None:
                return _unprocessable("Backups are not enabled on this Droplet.")
            if action == "change_backup_policy" and "backup_policy" not in body:
                return _unprocessable("backup_policy is required for change_backup_policy.")
            parsed = _parse_policy(body.get("backup_policy", {}), current, droplet_id)
            if isinstance(parsed, Reply):
                return parsed
            policy = parsed
        else:
            return _unprocessable(
                f"Action type {action!r} is not supported by the sandbox; it emulates "
                "enable_backups, disable_backups and change_backup_policy."
            )
        account = self.account

        def effect() -> None:
            account.set_policy(droplet_id, policy)

        started = self.book.start(
            account.next_action_id(),
            droplet_id,
            action,
            dict(REGIONS[record.region]),
            effect,
            errored=req.errored,
        )
        return Reply(201, {"action": started})

    # --- databases --------------------------------------------------------------------------

    def _databases(self, req: _Request, _: str) -> Reply:
        return Reply(200, {"databases": self.account.databases(req.query.get("tag_name"))})

    def _database_backups(self, req: _Request, cluster_id: str) -> Reply:
        engine = self.account.cluster_engine(cluster_id)
        if engine is None:
            return not_found()
        if engine in ("redis", "valkey"):
            # The spec says these clusters have no backups but not how it answers; we chose 422.
            return _unprocessable(
                "Backups are not supported for Caching (redis) and Valkey clusters."
            )
        return Reply(200, self.account.database_backups(cluster_id))


_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/v2/droplets"), Api._droplets),
    ("GET", re.compile(r"/v2/droplets/backups/policies"), Api._policies),
    ("GET", re.compile(r"/v2/droplets/backups/supported_policies"), Api._supported),
    ("GET", re.compile(r"/v2/droplets/([^/]+)/backups"), Api._droplet_backups),
    ("GET", re.compile(r"/v2/droplets/([^/]+)/backups/policy"), Api._policy),
    ("POST", re.compile(r"/v2/droplets/([^/]+)/actions"), Api._action),
    ("GET", re.compile(r"/v2/databases"), Api._databases),
    ("GET", re.compile(r"/v2/databases/([^/]+)/backups"), Api._database_backups),
]


def _unprocessable(message: str) -> Reply:
    return error(422, "unprocessable_entity", message)


def _droplet_id(raw: str) -> int | None:
    # The spec declares droplet_id as an integer >= 1; anything else names no droplet: 404.
    return int(raw) if _DROPLET_ID.fullmatch(raw) else None


def _page_params(query: Mapping[str, str]) -> tuple[int, int] | Reply:
    """Return (page, per_page) from the query, or a 400 reply for values outside the spec."""
    values = []
    for name, default, high in (("page", 1, None), ("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)):
        raw = query.get(name)
        value = default if raw is None else int(raw) if re.fullmatch(r"\d{1,9}", raw) else 0
        if value < 1 or (high is not None and value > high):
            bounds = f"between 1 and {high}" if high else "at least 1"
            return error(400, "bad_request", f"{name} must be an integer {bounds}.")
        values.append(value)
    return values[0], values[1]


def _paged(
    req: _Request, key: str, items: Any, page: int, per_page: int, total: int
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


def _parse_policy(raw: Any, current: Policy | None, droplet_id: int) -> Policy | Reply:
    """Validate a request's `backup_policy` (only plan, weekday and hour are writable)."""
    if not isinstance(raw, dict):
        return _unprocessable("backup_policy must be a JSON object.")
    plan = raw.get("plan", current.plan if current else "daily")
    if plan not in ("daily", "weekly"):
        return _unprocessable("backup_policy.plan must be 'daily' or 'weekly'.")
    default_hour = current.hour if current else WINDOW_STARTS[droplet_id % len(WINDOW_STARTS)]
    hour = raw.get("hour", default_hour)
    if type(hour) is not int or hour not in WINDOW_STARTS:
        return _unprocessable("backup_policy.hour must be one of 0, 4, 8, 12, 16, 20.")
    if plan == "daily":
        return Policy("daily", hour)
    weekday = raw.get("weekday", (current.weekday if current else None) or "SUN")
    if weekday not in WEEKDAYS:
        return _unprocessable("backup_policy.weekday must be one of SUN, MON, ..., SAT.")
    return Policy("weekly", hour, weekday)
