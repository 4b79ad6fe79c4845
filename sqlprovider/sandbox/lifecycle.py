"""Droplet actions with a lifecycle: in-progress, then completed (or errored) after a delay.

A POST to `/v2/droplets/{id}/actions` starts an action; its effect on the account (a policy
changed, backups turned off, a snapshot taken) is applied only when it completes, which happens
`delay` seconds later, checked lazily whenever a request arrives (no timer thread). A fault can
make it end `errored`, leaving the account unchanged. Every action is also written through to
the account's `Estate` (bound with `bind`), which answers the action reads beside the seeded
history: `GET /v2/actions[/{id}]` and `GET /v2/droplets/{id}/actions[/{action_id}]`. Imports
nothing from sqlprovider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .estate import Estate
from .records import iso
from .storage import ActionRecord


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
        self._estate: Callable[[], Estate] | None = None

    def bind(self, estate: Callable[[], Estate]) -> None:
        """Write every action through to the estate `estate()` returns (read lazily)."""
        self._estate = estate

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
        if self._estate is not None:
            self._estate().add_action(
                ActionRecord(
                    id=action_id,
                    type=kind,
                    status="in-progress",
                    started=int(now),
                    completed=None,
                    resource_type="droplet",
                    resource_id=droplet_id,
                    region=region.get("slug"),
                )
            )
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
        if self._estate is not None:
            self._estate().update_action(action.id, action.status, int(now))
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


def snapshot_effect(account: Any, rec: Any, name: str | None) -> Callable[[], None]:
    """What a completed `snapshot` action does: a new Droplet snapshot in the estate (it then
    shows in `/v2/droplets/{id}/snapshots`, `/v2/snapshots`, and the Droplet's `snapshot_ids`).
    """
    from . import catalog as cat
    from .storage import SnapshotRecord

    def effect() -> None:
        estate = account.estate
        created = int(time.time())
        disk = cat.SIZES[rec.size]["disk"]
        estate.add_snapshot(
            SnapshotRecord(
                id=str(estate.next_image_id()),
                name=name or f"{rec.name}-{created}",
                created=created,
                regions=(rec.region,),
                min_disk_size=disk,
                size_gigabytes=round(disk * 0.1, 2),
                resource_type="droplet",
                resource_id=str(rec.id),
                tags=rec.tags,
                distribution=str(cat.IMAGES[rec.image]["distribution"]),
            )
        )

    return effect
