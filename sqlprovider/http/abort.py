"""One request that can be ended from outside: a deadline per request, and interrupts.

A socket timeout applies to each read, so a server dripping one byte a second holds a request
for as long as it likes, and a thread blocked in a read cannot be told to stop. Here each
request runs under an `InFlight` handle: the transport gives it the connection it uses
(`attach`), and a single watchdog thread shuts that socket down when the request's deadline
passes or its statement's abort switch is set. The blocked read then returns at once and the
request fails with the reason recorded on the handle. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any, Literal

__all__ = ["InFlight", "aborted", "attach"]

#: How often the watchdog looks at cancel switches (an interrupt ends a request within this).
_POLL_SECONDS = 0.05
_current = threading.local()

Reason = Literal["deadline", "cancel"]


class InFlight:
    """The handle of one request: its deadline, its cancel switch and the socket it uses.

    Use as a context manager around the request and the reading of its body.
    """

    def __init__(self, deadline: float, cancel: threading.Event | None) -> None:
        self.deadline = deadline
        self.cancel = cancel
        self.reason: Reason | None = None
        self._connection: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> InFlight:
        _current.handle = self
        _watchdog.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.handle = None
        _watchdog.discard(self)

    def attach(self, connection: Any) -> None:
        """The connection this request goes through (called as the pool hands it out)."""
        with self._lock:
            self._connection = connection
        self.enforce()

    def abort(self, reason: Reason) -> None:
        """End the request now: its blocked read or connect returns with an error."""
        with self._lock:
            if self.reason is None:
                self.reason = reason
        self.enforce()

    def enforce(self) -> None:
        """Shut the socket of an aborted request (again each poll: it may still be connecting,
        and a socket that did not exist at the abort exists now)."""
        with self._lock:
            connection = self._connection if self.reason is not None else None
        if connection is not None:
            _shut(connection)


def _shut(connection: Any) -> None:
    shutdown = getattr(getattr(connection, "sock", None), "shutdown", None)
    if shutdown is not None:  # a recorder's stand-in socket (vcrpy) has none: nothing blocks
        with contextlib.suppress(OSError):  # already closed: nothing left to wake up
            shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that aborts requests past their deadline or cancelled."""

    def __init__(self) -> None:
        self._active: set[InFlight] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, handle: InFlight) -> None:
        with self._wake:
            self._active.add(handle)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sqlprovider-watchdog", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def discard(self, handle: InFlight) -> None:
        with self._wake:
            self._active.discard(handle)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._active:
                    self._wake.wait()
                handles = list(self._active)
            now = time.monotonic()
            for handle in handles:
                if handle.reason is not None:
                    handle.enforce()
                elif handle.cancel is not None and handle.cancel.is_set():
                    handle.abort("cancel")
                elif now >= handle.deadline:
                    handle.abort("deadline")
            soonest = min(h.deadline for h in handles) - now
            time.sleep(min(_POLL_SECONDS, max(soonest, 0.005)))


_watchdog = _Watchdog()


def attach(connection: Any) -> None:
    """Give `connection` to the request running in this thread, so its deadline and abort reach
    the socket (called by the transport as it hands a connection out)."""
    handle: InFlight | None = getattr(_current, "handle", None)
    if handle is not None:
        handle.attach(connection)


def aborted() -> bool:
    """Whether the request running in this thread was ended from outside (deadline or abort)."""
    handle: InFlight | None = getattr(_current, "handle", None)
    return handle is not None and handle.reason is not None
