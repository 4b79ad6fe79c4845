"""Droplet actions with a lifecycle: in-progress, then completed (or errored) after a delay.

A POST to `/v2/droplets/{id}/actions` starts an action; its effect on the account (a policy
changed, backups turned off, a snapshot taken) is applied only when it completes, which happens
`delay` seconds later, checked lazily whenever a request arrives (no timer thread). A fault can
make it end `errored`, leaving the account unchanged. The book also answers the action reads:
`GET /v2/actions/{id}`, `GET /v2/droplets/{id}/actions` (newest first) and
`GET /v2/droplets/{id}/actions/{action_id}`. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .records import iso

_ACTIONS = re.compile(r"/v2/actions/([0-9]{1,19})")
_DROPLET_ACTIONS = re.compile(r"/v2/droplets/([0-9]{1,19})/actions")
_DROPLET_ACTION = re.compile(r"/v2/droplets/([0-9]{1,19})/actions/([0-9]{1,19})")


@dataclass
class Action:
    """One action: what it is, when it finishes, and the change it makes when it completes."""

    id: int
    droplet_id: int
    type: str
    started: float
    due: float
    region: dict[str, Any]
    effect: Callable[[], None]
    errored: bool = False
    status: str = "in-progress"
    completed: float | None = None

    def render(self) -> dict[str, Any]:
        """The API's `action` object."""
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "started_at": iso(int(self.started)),
            "completed_at": None if self.completed is None else iso(int(self.completed)),
            "resource_id": self.droplet_id,
            "resource_type": "droplet",
            "region": self.region,
            "region_slug": self.region.get("slug"),
        }


class ActionBook:
    """Every action the sandbox started (thread-safe); `settle` finishes the due ones.

    Args:
        delay: seconds from start to completion (0: the effect is applied at once, and the
            action reads as completed from the next request on).
        clock: epoch seconds (replaceable in tests).
    """

    def __init__(self, delay: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        if delay < 0:
            raise ValueError("the action delay must be >= 0")
        self.delay = delay
        self._clock = clock
        self._lock = threading.Lock()
        self._actions: dict[int, Action] = {}
        self._by_droplet: dict[int, list[int]] = {}

    def start(
        self,
        action_id: int,
        droplet_id: int,
        kind: str,
        region: dict[str, Any],
        effect: Callable[[], None],
        *,
        errored: bool = False,
    ) -> dict[str, Any]:
        """Record a new action and return its rendering as the POST answers it (in-progress)."""
        now = self._clock()
        action = Action(action_id, droplet_id, kind, now, now + self.delay, region, effect, errored)
        with self._lock:
            self._actions[action_id] = action
            self._by_droplet.setdefault(droplet_id, []).append(action_id)
            answer = action.render()
        if self.delay == 0:
            self._finish(action, now)
        return answer

    def settle(self) -> None:
        """Complete (apply) or error every action whose time has come."""
        now = self._clock()
        with self._lock:
            due = [a for a in self._actions.values() if a.status == "in-progress" and a.due <= now]
        for action in sorted(due, key=lambda a: a.id):
            self._finish(action, now)

    def _finish(self, action: Action, now: float) -> None:
        with self._lock:
            if action.status != "in-progress":
                return
            action.status = "errored" if action.errored else "completed"
            action.completed = now
        if not action.errored:
            action.effect()

    def count(self, droplet_id: int | None = None, kind: str | None = None) -> int:
        """How many actions were started (for one Droplet, of one type): tests count duplicates."""
        with self._lock:
            return sum(
                1
                for a in self._actions.values()
                if (droplet_id is None or a.droplet_id == droplet_id)
                and (kind is None or a.type == kind)
            )

    def all(self) -> list[dict[str, Any]]:
        """Every action, oldest first."""
        with self._lock:
            return [self._actions[i].render() for i in sorted(self._actions)]

    def answer(
        self, path: str, query: dict[str, str], exists: Callable[[int], bool]
    ) -> tuple[int, Any] | None:
        """(status, body) for an action read, or None when `path` is not one."""
        match = _DROPLET_ACTION.fullmatch(path)
        if match is not None:
            droplet_id, action_id = int(match.group(1)), int(match.group(2))
            with self._lock:
                action = self._actions.get(action_id)
                found = action is not None and action.droplet_id == droplet_id
                return (200, {"action": action.render()}) if found else None  # type: ignore[union-attr]
        match = _ACTIONS.fullmatch(path)
        if match is not None:
            with self._lock:
                action = self._actions.get(int(match.group(1)))
                return None if action is None else (200, {"action": action.render()})
        match = _DROPLET_ACTIONS.fullmatch(path)
        if match is not None:
            droplet_id = int(match.group(1))
            if not exists(droplet_id):
                return None
            page = _number(query.get("page"), 1)
            per_page = min(_number(query.get("per_page"), 20), 200)
            with self._lock:
                ids = sorted(self._by_droplet.get(droplet_id, ()), reverse=True)
                chosen = ids[(page - 1) * per_page : page * per_page]
                records = [self._actions[i].render() for i in chosen]
            pages = (
                {"next": f"{path}?page={page + 1}&per_page={per_page}"}
                if page * per_page < len(ids)
                else {}
            )
            links = {"pages": pages} if pages else {}
            return 200, {"actions": records, "links": links, "meta": {"total": len(ids)}}
        return None


def _number(raw: str | None, default: int) -> int:
    return int(raw) if raw is not None and raw.isdigit() and int(raw) > 0 else default
