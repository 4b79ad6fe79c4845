"""A process-wide cache of API response bodies, with time-to-live and single flight.

Entries are keyed by everything that makes an answer: the API URL, the token's fingerprint, the
method, the path and the query, so two tokens (or two servers) never share an answer. Bodies are
stored as read (bytes, or the mmap of a large one, which nothing writes to again; see `payload`);
each reader applies its own TTL (0 disables reuse). Concurrent identical requests share one call
whatever the TTL ("single flight").
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlprovider.http.payload import Body
from sqlprovider.spec.record import Record

if TYPE_CHECKING:
    from concurrent.futures import Future

#: (API URL, token fingerprint, method, path, sorted query pairs).
CacheKey = tuple[str, str, str, str, tuple[tuple[str, str], ...]]


class Loaded(Record):
    """A response body, with its parsed JSON when this caller (or its twin) just parsed it."""

    body: Body
    payload: Any = None
    shared: bool = False


class ResponseCache:
    """An LRU of response bodies bounded in bytes."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, tuple[float, Body]] = OrderedDict()
        self._in_flight: dict[CacheKey, Future[Loaded]] = {}
        self._size = 0
        self._lock = threading.Lock()

    def peek(self, key: CacheKey, ttl: float) -> Body | None:
        """A stored body younger than `ttl` seconds, without loading anything."""
        if ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > ttl:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def fetch(self, key: CacheKey, ttl: float, load: Callable[[], Loaded]) -> Loaded:
        """A body younger than `ttl` seconds, else one `load()` shared by concurrent callers.

        A shared load stopped by its own caller's interrupt (`InterruptedError`) is not the
        answer of the others still waiting: the next of them loads it again under its own
        cancel switch, so the request ends only when nobody waits for it any more.
        """
        while True:
            with self._lock:
                entry = self._entries.get(key) if ttl > 0 else None
                if entry is not None and time.monotonic() - entry[0] <= ttl:
                    self._entries.move_to_end(key)
                    return Loaded(entry[1], None, True)
                pending = self._in_flight.get(key)
                if pending is None:
                    from concurrent.futures import Future

                    mine: Future[Loaded] = Future()
                    self._in_flight[key] = mine
            if pending is None:
                break
            try:
                twin = pending.result()
            except InterruptedError:
                continue  # its owner gave up; this caller still wants the answer
            return Loaded(twin.body, twin.payload, True)
        try:
            loaded = load()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._in_flight.pop(key, None)
        mine.set_result(loaded)
        if ttl > 0:
            self.store(key, loaded.body)
        return loaded

    def store(self, key: CacheKey, body: Body) -> None:
        """Keep `body` as the answer for `key` (replacing any), the oldest going past the bound."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[1])
            self._entries[key] = (time.monotonic(), body)
            self._size += len(body)
            while self._size > self._max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def forget(self, stale: Callable[[CacheKey], bool]) -> int:
        """Drop every stored body whose key `stale(key)` says a write made out of date."""
        with self._lock:
            keys = [key for key in self._entries if stale(key)]
            for key in keys:
                self._size -= len(self._entries.pop(key)[1])
            return len(keys)

    def clear(self) -> int:
        """Forget every stored body; return how many there were."""
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            self._size = 0
            return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_shared = ResponseCache()


def shared_cache() -> ResponseCache:
    """The cache every connection in this process uses unless given its own."""
    return _shared
