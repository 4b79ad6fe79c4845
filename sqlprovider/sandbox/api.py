"""Routes and answers of the emulated DigitalOcean API v2, without any socket code.

`Api.handle` takes a parsed request (method, path, query, body, base URL) and returns a `Reply`
(status, JSON-ready body, extra headers). It owns pagination (`page`/`per_page` checks, `links`,
`meta`), filters, droplet actions and the error bodies. Authentication, rate limits and faults
are the server's job. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .catalog import REGIONS, RETENTION_DAYS, WEEKDAYS, WINDOW_LENGTH_HOURS, WINDOW_STARTS
from .data import Account
from .lifecycle import ActionBook, snapshot_effect
from .records import Policy
from .replies import NOT_FOUND, Reply, Request, error, not_found, page_params, paged
from .replies import droplet_id as _droplet_id
from .replies import unprocessable as _unprocessable
from .storage_routes import STORAGE_ROUTES

__all__ = ["NOT_FOUND", "Api", "Reply", "error", "not_found"]
_Request = Request

Handler = Callable[[Any, _Request, str], Reply]


class Api:
    """Answers requests from an `Account`."""

    def __init__(self, account: Account, book: ActionBook | None = None) -> None:
        """Serve `account`; `book` keeps the actions POSTs start (and finishes them)."""
        self.account = account
        self.book = book or ActionBook()
        # Started actions live in the account's estate, beside its seeded history.
        self.book.bind(lambda: account.estate)

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
        request = _Request(_canonical(path), query, body, base_url, errored)
        allowed: list[str] = []
        for route_method, pattern, handler in _ROUTES:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            allowed.append(route_method)
            if route_method == method or (method == "HEAD" and route_method == "GET"):
                return handler(self, request, "/".join(match.groups()))
        if not allowed:
            # No route at all: the API's 404, marked so tests can tell it from a missing record.
            return dataclasses.replace(not_found(), routed=False)
        verbs = sorted({*allowed, "OPTIONS"} | ({"HEAD"} if "GET" in allowed else set()))
        if method == "OPTIONS":
            return Reply(204, None, {"Allow": ", ".join(verbs)})
        return Reply(
            405,
            {
                "id": "method_not_allowed",
                "message": f"{method} is not allowed here; use one of " + ", ".join(verbs) + ".",
            },
            {"Allow": ", ".join(verbs)},
        )

    # --- droplets ---------------------------------------------------------------------------

    def _droplets(self, req: _Request, _: str) -> Reply:
        paging = page_params(req.query)
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
        return Reply(200, paged(req, "droplets", droplets, page, per_page, total))

    def _droplet_backups(self, req: _Request, raw_id: str) -> Reply:
        droplet_id = _droplet_id(raw_id)
        paging = page_params(req.query)
        if droplet_id is None:
            return not_found()
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        found = self.account.backups_page(droplet_id, (page - 1) * per_page, per_page)
        if found is None:
            return not_found()
        total, backups = found
        return Reply(200, paged(req, "backups", backups, page, per_page, total))

    def _policies(self, req: _Request, _: str) -> Reply:
        paging = page_params(req.query)
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        total, policies = self.account.policies_page((page - 1) * per_page, per_page)
        return Reply(200, paged(req, "policies", policies, page, per_page, total))

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
        elif action == "snapshot":
            name = body.get("name")
            if name is not None and (not isinstance(name, str) or not name.strip()):
                return _unprocessable("name must be a non-empty string.")
            policy = current
        else:
            return _unprocessable(
                f"Action type {action!r} is not supported by the sandbox; it emulates "
                "enable_backups, disable_backups, change_backup_policy and snapshot."
            )
        account = self.account
        effect: Callable[[], None]
        if action == "snapshot":
            effect = snapshot_effect(account, record, body.get("name"))
        else:

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
    *STORAGE_ROUTES,
]


def _canonical(path: str) -> str:
    # The API answers `/v2/droplets/` as `/v2/droplets` (python-digitalocean sends the slash).
    return path.rstrip("/") if len(path) > 1 and path.endswith("/") else path


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
