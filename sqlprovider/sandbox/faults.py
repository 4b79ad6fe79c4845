"""Fault injection for the sandbox: the `Faults` settings and the per-request decisions.

`Faults` is an immutable description (rate, kinds, schedule, seed, ...); `FaultInjector` numbers
the requests it sees and decides, repeatably for a given seed and request order, which fault (if
any) each one gets. The server carries the faults out. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

STATUS_KINDS: dict[str, int] = {
    "429": 429,
    "429-no-retry-after": 429,
    "500": 500,
    "502": 502,
    "503": 503,
    "504": 504,
    "401": 401,
}
BODY_KINDS: tuple[str, ...] = ("reset", "truncate", "slow")
#: Answers a careless or hostile server sends: a redirect to another host, a gzip body that
#: inflates past any sane size, a header line longer than clients accept, a body that drips
#: in a byte at a time for `slow_seconds`.
HOSTILE_KINDS: tuple[str, ...] = ("redirect", "gzip-bomb", "huge-header", "drip")
#: Faults for writes: the request is carried out, then its answer is lost (a 500, or the
#: connection dropped mid-body), or the action it starts ends `errored`.
APPLY_KINDS: dict[str, str | int] = {"apply-500": 500, "apply-503": 503, "apply-reset": "reset"}
KINDS: tuple[str, ...] = (
    *STATUS_KINDS,
    *BODY_KINDS,
    *HOSTILE_KINDS,
    "mutate",
    *APPLY_KINDS,
    "errored",
)


@dataclass(frozen=True)
class Faults:
    """What to break, and when.

    Attributes:
        rate: Probability (0..1) that a request gets a fault drawn from `kinds`.
        kinds: Fault kinds drawn from when `rate` fires (see `KINDS`).
        schedule: Request number (1-based, counted from when these faults were installed,
            among requests matching `path_pattern`) to fault kind; wins over `rate`.
        seed: Seed of the draws, so a run is repeatable.
        slow_seconds: Pause between the headers and the body for `slow`.
        retry_after: Value of `retry-after` (seconds) sent with an injected `429`.
        path_pattern: If set, only requests whose path matches this regex (`re.search`) are
            numbered and may get a fault.

    Example:
        `Faults(schedule={3: "502", 7: "reset"})` breaks the 3rd and 7th requests only.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ("500",)
    schedule: Mapping[int, str] = field(default_factory=dict)
    seed: int = 0
    slow_seconds: float = 2.0
    retry_after: int = 1
    path_pattern: str | None = None

    def __post_init__(self) -> None:
        """Validate the settings and freeze `kinds` and `schedule`."""
        object.__setattr__(self, "kinds", tuple(self.kinds))
        object.__setattr__(self, "schedule", MappingProxyType(dict(self.schedule)))
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {self.rate}")
        if self.rate > 0 and not self.kinds:
            raise ValueError("a fault rate needs at least one fault kind")
        unknown = [k for k in (*self.kinds, *self.schedule.values()) if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind(s) {unknown}; known: {', '.join(KINDS)}")
        if any(n < 1 for n in self.schedule):
            raise ValueError("fault schedule request numbers start at 1")
        if self.retry_after < 1 or self.slow_seconds < 0:
            raise ValueError("retry_after must be >= 1 and slow_seconds >= 0")
        if self.path_pattern is not None:
            re.compile(self.path_pattern)


class FaultInjector:
    """Numbers matching requests and decides their faults (thread-safe)."""

    def __init__(self, faults: Faults) -> None:
        """Start numbering requests at 1 under `faults`."""
        self.faults = faults
        self._pattern = None if faults.path_pattern is None else re.compile(faults.path_pattern)
        self._rng = random.Random(faults.seed)
        self._count = 0
        self._lock = threading.Lock()

    def decide(self, path: str) -> str | None:
        """Return the fault kind for the next request to `path`, or None."""
        if self._pattern is not None and not self._pattern.search(path):
            return None
        with self._lock:
            self._count += 1
            scheduled = self.faults.schedule.get(self._count)
            if scheduled is not None:
                return scheduled
            if self.faults.rate > 0 and self._rng.random() < self.faults.rate:
                return self.faults.kinds[self._rng.randrange(len(self.faults.kinds))]
            return None


def parse_kinds(text: str) -> tuple[str, ...]:
    """Parse `500,502,reset` into a tuple of kinds (validated by `Faults`)."""
    return tuple(k.strip() for k in text.split(",") if k.strip())


def parse_schedule(text: str) -> dict[int, str]:
    """Parse `3:502,7:reset` into `{3: "502", 7: "reset"}`.

    Raises:
        ValueError: An item is not `NUMBER:KIND`.
    """
    out: dict[int, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        number, sep, kind = item.partition(":")
        if not sep or not number.strip().isdigit():
            raise ValueError(f"fault schedule item {item!r} is not NUMBER:KIND, e.g. 3:502")
        out[int(number)] = kind.strip()
    return out
