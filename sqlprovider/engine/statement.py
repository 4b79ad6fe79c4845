"""What one SQL statement shares across its cursors: counters, a call memo, a cancel switch.

SQLite's nested-loop joins call a table's Filter once per outer row, often with a value seen
before, and the inner table of a join is scanned once per outer row; the memo makes each distinct
request once per statement (unkeyed list pages within a byte bound), and lets a join prefetch
fill in results before SQLite asks for them. Imports `http.stats` and `engine.estimate`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from sqlprovider.engine.estimate import Collector
from sqlprovider.http.stats import RequestStats
from sqlprovider.http.waits import DEFAULT_MAX_WAIT, WaitBudget
from sqlprovider.spec.record import Record

if TYPE_CHECKING:
    from concurrent.futures import Future

#: Default of `ConnectOptions.reuse_bytes`: unkeyed list pages one statement keeps for reuse.
DEFAULT_REUSE_BYTES = 32 * 1024 * 1024
#: Notices kept per statement: a join over thousands of missing keys must not grow without end.
MAX_NOTICES = 100

_AGGREGATE = re.compile(
    r"\b(count|sum|total|avg|min|max|group_concat|string_agg|json_group_array|"
    r"json_group_object)\s*\(|\bgroup\s+by\b",
    re.IGNORECASE,
)


def is_aggregate(sql: str) -> bool:
    """Whether a statement (probably) aggregates: its totals then hide missing rows."""
    return bool(_AGGREGATE.search(sql))


class AccountFailure(Record):
    """An account left out of a statement's result (`on_account_error="skip"`).

    Attributes:
        account: the account's name.
        table: the table being read when it failed.
        status: the HTTP status, when the API answered one.
        error: the error's message (it names the cause and what to do).
    """

    account: str
    table: str
    status: int | None
    error: str


class Statement:
    """Per-statement state, created when SQLite starts executing a statement.

    Attributes:
        sql: the statement's text as SQLite sees it (None when unknown).
        bindings: its bound parameters (a sequence or a mapping), when known.
        stats: API work done for this statement.
        cancel: set to stop waiting workers (interrupt, or the statement ended early).
        waits: how long the statement's requests may still wait (rate limit, backoff).
        abandon: set when requests already on the wire are to be cut off too (an interrupt).
        prefetched: resources whose join keys were already prefetched.
        paced_sources: lists a join's key query reads at its nested loop's pace (see
            `engine.prefetch`): their later pages are read only a little ahead.
        notices: what the statement's answer should be read with ("droplet_id 12345: not
            found, 0 rows"), in the order noted, each once.
        estimate: set while the statement runs only to count its calls (`EXPLAIN API`).
        failures: accounts skipped because they failed (the first failure of each).
    """

    def __init__(
        self, sql: str | None, bindings: Any = None, max_wait: float = DEFAULT_MAX_WAIT
    ) -> None:
        self.sql = sql
        self.bindings = bindings
        self.stats = RequestStats()
        self.cancel = threading.Event()
        self.waits = WaitBudget(max_wait)
        self.abandon = threading.Event()
        self.prefetched: set[str] = set()
        self.paced_sources: set[str] = set()
        self.retained_sources: frozenset[str] | None = None
        self.notices: list[str] = []
        self.notices_left_out = 0
        #: Rows this statement changes through the API (None: it writes to no API table).
        self.changed_rows: int | None = None
        self.estimate: Collector | None = None
        self.failures: dict[str, AccountFailure] = {}
        self._memo: dict[Hashable, Future[Any]] = {}
        self._running: list[Future[Any]] = []
        self._lock = threading.Lock()
        #: Bytes of unkeyed list pages this statement may keep for its repeated scans.
        self.reuse_bytes = DEFAULT_REUSE_BYTES
        self._reuse_used = 0
        self._not_kept: set[Hashable] = set()
        #: Size of each kept answer, given back to the bound when the answer is let go.
        self._kept_sizes: dict[Hashable, int] = {}
        #: Reads still to come of a prefetched answer; at 0 it is let go (see `expect_reads`).
        self._reads_left: dict[Hashable, int] = {}

    def note(self, text: str) -> None:
        """Add a notice (once; past `MAX_NOTICES` they are only counted)."""
        with self._lock:
            if text in self.notices:
                return
            if len(self.notices) < MAX_NOTICES:
                self.notices.append(text)
            else:
                self.notices_left_out += 1

    @property
    def warnings(self) -> list[str]:
        """The notices, with a last line counting those left out."""
        with self._lock:
            out = list(self.notices)
            if self.notices_left_out:
                out.append(f"... and {self.notices_left_out} more notices like these")
            return out

    def summary(self) -> dict[str, float]:
        """The API work (`stats`) and the number of notices, as `cursor.stats` shows them."""
        with self._lock:
            count = len(self.notices) + self.notices_left_out
        return {**self.stats.as_dict(), "warnings": count}

    def shared(
        self, key: Hashable, submit: Callable[[], Future[Any]], *, retain: bool | str
    ) -> Future[Any]:
        """The future of an identical earlier call, else a new one from `submit()`.

        Args:
            retain: True keeps the result for later identical calls in this statement (or
                until its last expected read, see `expect_reads`); ``"bounded"`` keeps it only
                while the pages kept add up to at most `reuse_bytes` (the worker reports each
                page's size to `admit`), so a join rescanning an unkeyed list reads it once;
                False shares the future only while it is in flight.
        """
        last_read = False
        with self._lock:
            known = self._memo.get(key)
            if known is not None:
                if not retain and known.done():
                    del self._memo[key]
                elif retain == "bounded" and known.done():
                    self.stats.add(reused=1)
                left = self._reads_left.get(key)
                if left is not None and left > 1:
                    self._reads_left[key] = left - 1
                elif left == 1:
                    self._reads_left[key] = 0
                    last_read = True
            else:
                future = submit()
                self._memo[key] = future
        if known is not None:
            if last_read:
                # Let go once answered: until then `finish` must still find it to cancel it.
                # (Outside the lock: a future already done runs the callback at once.)
                known.add_done_callback(lambda done: self._let_go(key, done))
            return known
        if not retain:
            future.add_done_callback(lambda done: self._forget(key, done))
        elif retain == "bounded":
            future.add_done_callback(lambda done: self._forget_if_not_kept(key, done))
        return future

    def expect_reads(self, key: Hashable, reads: int) -> None:
        """Let go of a prefetched answer once it has been read `reads` times.

        A join prefetches one call per key of its outer rows, and its nested loop then reads
        each answer once per outer row holding that key: no later call of the statement can
        reuse it after that, so it is released at once rather than held to the end (the
        statement's memory stays flat however many keys it fans out to). Should SQLite read
        it once more all the same, that read is sent again.
        """
        with self._lock:
            if key in self._memo and reads > 0:
                self._reads_left[key] = reads

    def _let_go(self, key: Hashable, future: Future[Any]) -> None:
        """Drop an answer read for the last time and give its bytes back to the bound."""
        with self._lock:
            if self._memo.get(key) is future:
                del self._memo[key]
                self._reads_left.pop(key, None)
                self._reuse_used -= self._kept_sizes.pop(key, 0)

    def admit(self, key: Hashable, size: int) -> bool:
        """Whether a page of `size` bytes fits the reuse bound; if not, it is not kept.

        Past the bound the statement says so in its stats (`reuse_dropped`) rather than keep
        pages without limit: a later identical read is then sent again.
        """
        with self._lock:
            if key not in self._memo:
                return True  # already let go (read by every reader before it arrived)
            if self._reuse_used + size <= self.reuse_bytes:
                self._reuse_used += size
                self._kept_sizes[key] = size
                return True
            self._not_kept.add(key)
        self.stats.add(reuse_dropped=1)
        return False

    def keep_in_flight_only(self, key: Hashable) -> None:
        """Share a page only while it is in flight (an answer from the response cache).

        Called from a `shared` submit, which holds the lock: a set's `add` needs no other.
        """
        self._not_kept.add(key)

    def _forget_if_not_kept(self, key: Hashable, future: Future[Any]) -> None:
        with self._lock:
            if key in self._not_kept or future.cancelled() or future.exception() is not None:
                self._not_kept.discard(key)
                if self._memo.get(key) is future:
                    del self._memo[key]

    def answer(self, key: Hashable, future: Future[Any]) -> None:
        """Record an answer obtained another way (a list page) for a call not yet made."""
        with self._lock:
            self._memo.setdefault(key, future)

    def _forget(self, key: Hashable, future: Future[Any]) -> None:
        with self._lock:
            if self._memo.get(key) is future:
                del self._memo[key]

    def record_failure(self, failure: AccountFailure) -> None:
        """Remember that an account failed; its later calls in this statement are skipped."""
        with self._lock:
            self.failures.setdefault(failure.account, failure)

    def finish(self, wait_seconds: float = 0.0, *, abandon: bool = False) -> None:
        """Stop every queued call of this statement; results already in flight are dropped.

        Args:
            wait_seconds: how long to wait for requests already on the wire, so that none of
                this statement's requests reaches the API after its error was reported.
            abandon: also cut the requests on the wire (an interrupt or a closing connection,
                where the user wants control back at once). A statement that merely ended lets
                them finish, so that a caller reporting its error can wait for them.
        """
        if abandon:
            self.abandon.set()  # before `cancel`: a worker that sees cancel also sees this
        self.cancel.set()
        with self._lock:
            futures = list(self._memo.values())
            self._memo.clear()
        # Cancelling runs a future's done-callbacks at once, and `_forget` takes the lock: so
        # cancel outside it (holding it here deadlocked `interrupt()` on a queued list call).
        running = [future for future in futures if not future.cancel()]
        # The statement's end already finished it (SQLite's trace fires as a failed statement
        # resets), so a caller that waits afterwards still waits for what was on the wire.
        self._running = [future for future in self._running if not future.done()] + running
        if wait_seconds > 0 and self._running:
            from concurrent.futures import wait

            wait(self._running, timeout=wait_seconds)
