"""Send planned changes: in parallel, paced, never duplicated, optionally waited for.

A POST has no idempotency key, so it is never retried blindly. A 429 means "not processed" and
is retried by the client. After a 5xx, a timeout or a dropped connection the answer is lost
but the write may have happened: the resource's `confirm` list (the Droplet's actions) is read,
and the call is repeated only when no matching record started after the first attempt. When
that list cannot be read either, the outcome is reported as unknown, never guessed. Imports
`http`, `engine.changes`, `spec` and `errors`.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlprovider.engine.changes import Change, fill_path
from sqlprovider.engine.rows import dig
from sqlprovider.errors import ApiError, Error, ResponseError, ServiceError
from sqlprovider.http import ApiClient, RequestStats
from sqlprovider.spec import Resource, Write

_logger = logging.getLogger(__name__)

#: Seconds a confirm tolerates between our clock and the API's (its times are whole seconds).
CLOCK_SLACK = 2.0


class Claims:
    """The records this process knows it created, per account, so a confirm never takes one
    of them for the lost answer of a later call (the API's start times are whole seconds, so
    "started after my first attempt" alone cannot tell two quick calls apart).

    Process-wide: two connections of the same token write to the same account.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._known: dict[str, dict[Any, None]] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def add(self, account: str, record_id: Any) -> None:
        """Remember a record this process created."""
        if record_id is None:
            return
        with self._lock:
            known = self._known.setdefault(account, {})
            known[record_id] = None
            while len(known) > self._limit:
                del known[next(iter(known))]

    def claim(self, account: str, candidates: Sequence[Any]) -> Any | None:
        """Take the newest candidate no earlier call created; None when all are known."""
        with self._lock:
            known = self._known.setdefault(account, {})
            for record_id in reversed(candidates):
                if record_id not in known:
                    known[record_id] = None
                    return record_id
        return None


CLAIMS = Claims()


@dataclass(frozen=True)
class Outcome:
    """What became of one planned call (one row of `sqlprovider_changes`).

    Attributes:
        status: ``planned`` (dry run), ``accepted`` (the API took it), a final status of the
            created record when waited for (``completed``, ``errored``), ``failed`` (refused,
            nothing changed), ``unknown`` (the answer was lost and could not be confirmed) or
            ``not sent`` (an earlier failure stopped it).
        record_id: the created record's id (the action id).
        attempts: requests made for it (POSTs; confirms are not counted).
    """

    change: Change
    status: str
    record_id: Any = None
    error: str | None = None
    attempts: int = 0
    confirmed: bool = False

    @property
    def changed(self) -> bool:
        """Whether the API accepted the call (and, when waited for, did not report an error)."""
        return self.status in ("accepted", "completed", "in-progress")

    @property
    def ok(self) -> bool:
        """Whether this call needs no attention (accepted, finished, or a dry run)."""
        return self.error is None and self.status in ("planned", "accepted", "completed")


@dataclass(frozen=True)
class Planned:
    """A change with the resource and write it belongs to."""

    resource: Resource
    write: Write
    row: Mapping[str, Any]
    change: Change


def send_all(
    client: ApiClient,
    planned: Sequence[Planned],
    *,
    submit: Callable[[Callable[[], Outcome]], Any],
    stats: RequestStats,
    attempts: int,
    cancel: threading.Event | None = None,
) -> list[Outcome]:
    """Send every change in parallel (`submit` runs a job on the worker pool); keep the order."""

    def job(one: Planned) -> Callable[[], Outcome]:
        return lambda: send_one(client, one, stats=stats, attempts=attempts, cancel=cancel)

    futures = [submit(job(p)) for p in planned]
    outcomes = []
    for future in futures:
        while True:
            try:
                outcomes.append(future.result())
                break
            except KeyboardInterrupt:
                # Ctrl-C: calls not yet sent stop; every call is still accounted for.
                if cancel is not None:
                    cancel.set()
    return outcomes


def send_one(
    client: ApiClient,
    planned: Planned,
    *,
    stats: RequestStats,
    attempts: int,
    cancel: threading.Event | None = None,
) -> Outcome:
    """Send one change; repeat it only when its confirm list shows it did not start."""
    change, write = planned.change, planned.write
    first = time.time()
    tries = 0
    while True:
        tries += 1
        if cancel is not None and cancel.is_set():
            return Outcome(
                change, "not sent", error="the statement was interrupted", attempts=tries - 1
            )
        try:
            answer = client.send(
                change.verb, change.path, body=change.body, stats=stats, cancel=cancel
            )
        except InterruptedError:
            # Raised while waiting for the pacer or a 429's backoff: this attempt was not sent,
            # and an earlier one was either refused (429) or confirmed not started.
            return Outcome(
                change, "not sent", error="the statement was interrupted", attempts=tries - 1
            )
        except ServiceError as exc:
            # The answer is lost; the write may or may not have happened.
            if write.confirm is None:
                return Outcome(change, "unknown", error=_unknown(exc), attempts=tries)
            # Give a slow API time to record the action before looking for it.
            time.sleep(min(0.05 * 2**tries, 2.0))
            try:
                found = _confirm(client, planned, since=first - CLOCK_SLACK, stats=stats)
            except (Error, InterruptedError) as lookup:
                return Outcome(
                    change,
                    "unknown",
                    error=f"{_unknown(exc)}; and checking whether it started failed: {lookup}",
                    attempts=tries,
                )
            if found is not None:
                _logger.debug("%s %s: answer lost, found %s", change.verb, change.path, found)
                return Outcome(change, "accepted", found, attempts=tries, confirmed=True)
            if tries >= attempts:
                return Outcome(change, "failed", error=f"{exc} (not started)", attempts=tries)
            continue
        except ApiError as exc:
            return Outcome(change, "failed", error=str(exc), attempts=tries)
        record = _found(answer, write.operation.records)
        record_id = record.get(write.answer_id) if isinstance(record, dict) else None
        CLAIMS.add(_account(client), record_id)
        return Outcome(change, "accepted", record_id, attempts=tries)


def _found(body: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` in an answer, or None when it is absent."""
    value = dig(body, path) if isinstance(body, dict) else None
    return value if isinstance(value, (dict, list, str, int, float)) else None


def _confirm(
    client: ApiClient, planned: Planned, *, since: float, stats: RequestStats
) -> Any | None:
    """The id of a record matching the change that started at or after `since`, else None."""
    confirm = planned.write.confirm
    assert confirm is not None
    path = fill_path(planned.resource, confirm.path, planned.row)
    wanted = (
        planned.change.body.get(confirm.match) if isinstance(planned.change.body, dict) else None
    )
    page = 1
    candidates: list[Any] = []
    while page <= 50:  # bounded: 50 pages of 200 records
        body = client.send(
            "GET",
            path,
            query={"page": page, "per_page": 200},
            stats=stats,
            retry_statuses=frozenset({429, 500, 502, 503, 504}),
        )
        records = _found(body, confirm.records)
        if not isinstance(records, list):
            raise ResponseError(
                f"GET {path} answered without a list at {'.'.join(confirm.records)}",
                status=200,
                method="GET",
                url=path,
            )
        for record in records:
            if not isinstance(record, dict) or record.get(confirm.match) != wanted:
                continue
            started = _epoch(record.get(confirm.started))
            if started is not None and started >= since:
                candidates.append((started, record.get(planned.write.answer_id)))
        if len(records) < 200 or not _found(body, ("links", "pages", "next")):
            break
        page += 1
    ordered = [record_id for _, record_id in sorted(candidates, key=lambda c: c[0])]
    return CLAIMS.claim(_account(client), ordered)


def _account(client: ApiClient) -> str:
    token = client.token
    return f"{client.base_url} {token.fingerprint if token is not None else '-'}"


def wait_for(
    client: ApiClient,
    outcomes: list[Outcome],
    writes: Sequence[Write],
    *,
    timeout: float,
    stats: RequestStats,
    cancel: threading.Event | None = None,
) -> list[Outcome]:
    """Poll every accepted record until it is done or failed, for at most `timeout` seconds.

    Polls are paced by the client's rate limiter and spaced out (0.5 s, growing to 5 s); a
    record still unfinished at the deadline keeps the status ``in-progress`` and is reported.
    """
    deadline = time.monotonic() + timeout
    pending = {
        i
        for i, o in enumerate(outcomes)
        if o.changed and writes[i].wait and o.record_id is not None
    }
    pause = 0.5
    out = list(outcomes)
    while pending:
        for i in sorted(pending):
            wait = writes[i].wait
            assert wait is not None
            path = wait.path.replace("{id}", str(out[i].record_id))
            try:
                body = client.send(
                    "GET", path, stats=stats, retry_statuses=frozenset({429, 500, 502, 503, 504})
                )
            except Error as exc:
                out[i] = replace(out[i], status="in-progress", error=f"could not follow it: {exc}")
                pending.discard(i)
                continue
            record = _found(body, wait.records)
            status = record.get(wait.status) if isinstance(record, dict) else None
            if status in wait.done:
                out[i] = replace(out[i], status=str(status))
                pending.discard(i)
            elif status in wait.failed:
                out[i] = replace(out[i], status=str(status), error=f"the API reports it {status}")
                pending.discard(i)
        if not pending:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            for i in pending:
                out[i] = replace(
                    out[i], status="in-progress", error=f"not finished after {timeout:g} s"
                )
            break
        if cancel is not None and cancel.wait(min(pause, left)):
            for i in pending:
                out[i] = replace(out[i], status="in-progress", error="interrupted while waiting")
            break
        if cancel is None:
            time.sleep(min(pause, left))
        pause = min(pause * 2, 5.0)
    return out


def _unknown(exc: Exception) -> str:
    return f"{exc}; the API may or may not have carried it out"


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()
