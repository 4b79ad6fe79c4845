"""`Writer`: a connection's writes, staged like a transaction and sent when it commits.

SQLite drives it through the virtual-table protocol: each UPDATE or INSERT row reaches
`update`/`insert` (planned and validated there, so one bad row fails the statement before
anything is sent), a statement inside BEGIN is a savepoint, and the transaction's `sync`
(phase one of COMMIT, or the end of an autocommit statement) sends every staged call. An error
raised there fails the COMMIT. ROLLBACK, a failed statement or a closed connection drop the
staged calls, so nothing is sent. Imports `spec`, `http`, `engine.*` and `errors`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import apsw

from sqlprovider.engine.apply import Outcome, Planned, send_all, wait_for
from sqlprovider.engine.changes import UNSET, plan_change
from sqlprovider.errors import NotSupportedError, WriteError
from sqlprovider.options import ConnectOptions
from sqlprovider.spec import Check, Provider, Resource

if TYPE_CHECKING:
    from sqlprovider.engine.session import Session

_logger = logging.getLogger(__name__)


class Writer:
    """The staged writes of one connection (one SQLite handle, so one thread at a time)."""

    def __init__(self, session: Session, provider: Provider, options: ConnectOptions) -> None:
        self.session = session
        self.provider = provider
        self.options = options
        self.batch = 0
        self.last: list[Outcome] = []
        self._staged: list[Planned] = []
        self._marks: dict[int, int] = {}
        self._seen: dict[tuple[str, int], tuple[Any, ...]] = {}
        self._lookups: dict[tuple[str, str, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        self._next_rowid = 0
        self._reported = 0

    # --- rows as read -----------------------------------------------------------------------

    def remember(self, resource: Resource, rowid: int, row: tuple[Any, ...]) -> None:
        """Keep the row SQLite named by `rowid`: an UPDATE receives only the changed values."""
        self._seen[(resource.qualified_name, rowid)] = row

    def forget_rows(self) -> None:
        """A new statement starts: rows read by earlier ones are not updated by it."""
        self._seen.clear()

    # --- row changes (validated and planned, not sent) --------------------------------------

    def update(self, resource: Resource, rowid: int, newrowid: int, fields: Sequence[Any]) -> None:
        """Plan the call for one UPDATEd row."""
        write = self._writable(resource, "UPDATE")
        names = [c.name for c in resource.columns]
        old_values = self._seen.get((resource.qualified_name, rowid))
        if old_values is None or newrowid != rowid:
            raise NotSupportedError(
                f"{resource.qualified_name}: UPDATE cannot change "
                f"{resource.identity[0]}, the row's identity; nothing was sent"
            )
        old = dict(zip(names, old_values, strict=True))
        new = {
            name: (UNSET if _is_no_change(value) else value)
            for name, value in zip(names, fields, strict=True)
        }
        self._plan(resource, write, old, new)

    def insert(self, resource: Resource, fields: Sequence[Any]) -> int:
        """Plan the call for one INSERTed row; return its (local) rowid."""
        write = self._writable(resource, "INSERT")
        names = [c.name for c in resource.columns]
        new = dict(zip(names, fields, strict=True))
        self._plan(resource, write, None, new)
        self._next_rowid += 1
        return self._next_rowid

    def begin(self, resource: Resource) -> None:
        """A statement starts writing to `resource`: refuse at once what can never go through
        (writes off, or a table that takes none), even when no row would match."""
        if not resource.writes:
            raise NotSupportedError(self._refusal(resource, "write"))
        if not (self.options.allow_writes or self.options.dry_run):
            self._writable(resource, resource.writes[0].sql_verb)

    def delete(self, resource: Resource) -> None:
        """Refuse a DELETE: no resource declares one."""
        raise NotSupportedError(self._refusal(resource, "DELETE"))

    def _writable(self, resource: Resource, verb: str) -> Any:
        write = resource.write(verb)
        if write is None:
            raise NotSupportedError(self._refusal(resource, verb))
        if not (self.options.allow_writes or self.options.dry_run):
            raise NotSupportedError(
                f"{verb} on {resource.qualified_name} would change your DigitalOcean account, "
                "and writes are off for this connection. Turn them on with "
                "connect(allow_writes=True), --allow-writes (CLI and shell) or ?allow_writes=1 "
                "(SQLAlchemy URL); preview first with dry_run=True / --dry-run, which sends "
                "nothing. Nothing was sent."
            )
        return write

    def _refusal(self, resource: Resource, verb: str) -> str:
        offered = []
        for other in self.provider.resources():
            for write in other.writes:
                into = "INSERT INTO" if write.sql_verb == "INSERT" else "UPDATE"
                offered.append(f"{into} {other.qualified_name} ({', '.join(write.settable)})")
        listing = "; ".join(offered) or "none"
        return (
            f"{resource.qualified_name} takes no {verb}: the writes that exist are {listing}. "
            "Nothing was sent."
        )

    def _plan(
        self, resource: Resource, write: Any, old: dict[str, Any] | None, new: dict[str, Any]
    ) -> None:
        statement = self.session.statement
        change = plan_change(resource, write, old, new, self._allowed)
        count = statement.changed_rows or 0
        if change is not None:
            row = {**(old or {}), **{k: v for k, v in new.items() if v is not UNSET}}
            self._staged.append(Planned(resource, write, row, change))
            count += 1
        statement.changed_rows = count

    def _allowed(self, check: Check, row: Mapping[str, Any]) -> frozenset[Any]:
        """The values `check` allows for `row`, read from its table (once per transaction)."""
        theirs = tuple(t for t, _ in check.match)
        key = (check.table, check.values, theirs)
        rows = self._lookups.get(key)
        if rows is None:
            columns = ", ".join(f'"{name}"' for name in (check.values, *theirs))
            rows = self._lookups[key] = self.session.run_nested(
                f'SELECT {columns} FROM "{check.table}"'
            )
        is_json = self.provider.resource(check.table).column(check.values).type == "json"
        allowed: set[Any] = set()
        for values, *matched in rows:
            if any(
                row.get(ours) is not None and value != row.get(ours)
                for value, (_, ours) in zip(matched, check.match, strict=True)
            ):
                continue
            listed = json.loads(values) if is_json and isinstance(values, str) else values
            allowed.update(listed if isinstance(listed, list) else [listed])
        return frozenset(allowed)

    # --- the transaction --------------------------------------------------------------------

    def savepoint(self, level: int) -> None:
        """A statement (or SAVEPOINT) begins inside a transaction."""
        self._marks[level] = len(self._staged)

    def release(self, level: int) -> None:
        """Savepoints from `level` on are merged into the enclosing one."""
        for mark in [m for m in self._marks if m >= level]:
            del self._marks[mark]

    def rollback_to(self, level: int) -> None:
        """Forget what was staged since savepoint `level` (a failed statement, ROLLBACK TO)."""
        mark = self._marks.get(level)
        if mark is not None:
            del self._staged[mark:]

    def rollback(self) -> None:
        """Forget everything staged: nothing is sent."""
        if self._staged:
            _logger.debug("rollback: %d staged calls dropped", len(self._staged))
        self._staged.clear()
        self._marks.clear()
        self._lookups.clear()

    def sync(self) -> None:
        """Send every staged call (phase one of COMMIT); raise when any did not go through.

        Raises:
            WriteError: some calls failed, are unknown or were not waited for in full; the
                message lists what changed and what did not.
        """
        planned, self._staged = self._staged, []
        self._marks.clear()
        self._lookups.clear()
        if not planned:
            return
        self.batch += 1
        self.last = []
        session = self.session
        stats = session.statement.stats
        if self.options.dry_run:
            self.last = [Outcome(p.change, "planned") for p in planned]
            return
        client = session.client
        cancel = session.statement.cancel
        outcomes = send_all(
            client,
            planned,
            submit=session.fetcher.pool.submit,
            stats=stats,
            attempts=client.retry.attempts,
            cancel=cancel,
        )
        if self.options.wait and not cancel.is_set():
            outcomes = wait_for(
                client,
                outcomes,
                [p.write for p in planned],
                timeout=self.options.wait_timeout,
                stats=stats,
                cancel=cancel,
            )
        stale = tuple(dict.fromkeys(x for p in planned for x in p.write.makes_stale))
        client.forget(stale)
        self.last = outcomes
        failed = [o for o in outcomes if not o.ok]
        if failed:
            raise WriteError(_summary(outcomes), [_as_dict(o) for o in outcomes])

    def take_report(self) -> list[str]:
        """Lines for the calls of batches not yet reported (the CLI prints them on stderr)."""
        if self._reported == self.batch:
            return []
        self._reported = self.batch
        return preview_lines(self.last)

    def change_rows(self) -> list[tuple[Any, ...]]:
        """The rows of `sqlprovider_changes`."""
        return [
            (
                self.batch,
                o.change.resource,
                o.change.key_text,
                o.change.action,
                o.change.verb,
                o.change.path,
                o.change.body_json,
                o.status,
                o.record_id,
                o.attempts,
                o.error,
            )
            for o in self.last
        ]


def preview_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """One line per call, as the CLI prints them on stderr (a dry run: what would be sent)."""
    lines = []
    for o in outcomes:
        call = f"{o.change.verb} {o.change.path} {o.change.body_json} ({o.change.key_text})"
        if o.status == "planned":
            lines.append(f"would send: {call}")
            continue
        action = f", action {o.record_id}" if o.record_id is not None else ""
        error = f": {o.error}" if o.error else ""
        lines.append(f"sent: {call} -> {o.status}{action}{error}")
    return lines


def _summary(outcomes: Sequence[Outcome]) -> str:
    changed = [o for o in outcomes if o.changed and o.ok]
    other = [o for o in outcomes if not o.ok]
    lines = [
        f"the write went through for {len(changed)} of {len(outcomes)} rows; "
        f"{len(other)} need attention (see sqlprovider_changes):"
    ]
    for o in other[:20]:
        lines.append(f"  {o.change.key_text} {o.change.action}: {o.status}: {o.error}")
    if len(other) > 20:
        lines.append(f"  ... and {len(other) - 20} more")
    if changed:
        keys = ", ".join(o.change.key_text for o in changed[:20])
        more = f" and {len(changed) - 20} more" if len(changed) > 20 else ""
        lines.append(f"  changed: {keys}{more}")
    lines.append(
        "Nothing was retried blindly: check the rows marked unknown with a SELECT before "
        "running the statement again."
    )
    return "\n".join(lines)


def _as_dict(o: Outcome) -> dict[str, object]:
    return {
        "key": o.change.key_text,
        "action": o.change.action,
        "status": o.status,
        "action_id": o.record_id,
        "error": o.error,
    }


def _is_no_change(value: Any) -> bool:
    return value is apsw.no_change
