"""Start a join's keyed calls ahead of SQLite's nested loop, in parallel and in bounded memory.

`droplets d JOIN droplet_backups b ON b.droplet_id = d.id` calls b's Filter once per Droplet,
one at a time; `engine.joins` derives the query that lists those keys. Run whole before the
loop starts, that query reads the entire Droplet list first (every page kept until the loop
reads it again) and queues every keyed call at once, so memory grows with the account. So the
key query is read as the loop goes: a window of keys ahead of the key the loop asks for is
started (enough to keep every worker busy), and each answer is let go once the loop has read
it. The loop reads the source in the key query's order, so the window stays just ahead.

Keyed calls that the list answers more cheaply (`batch_with`, see `engine.batch`) need every key
before choosing, and so do several accounts (a key's reads depend on how many accounts hold
it): those still read the whole key query first. Imports `engine.*`, `spec` and `errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import apsw

from sqlprovider.engine.account_streams import record_failure
from sqlprovider.engine.batch import answer_from_list
from sqlprovider.engine.pages import first_page
from sqlprovider.engine.plan import Call, plan_calls, row_limit
from sqlprovider.engine.statement import Statement
from sqlprovider.errors import Error, OperationalError
from sqlprovider.spec import Method, Resource

if TYPE_CHECKING:
    from sqlprovider.engine.fetch import Fetcher
    from sqlprovider.engine.joins import KeySource

_logger = logging.getLogger(__name__)

#: Keys started ahead of the nested loop, per worker of the account: the workers never wait
#: for the loop, and the loop seldom waits for a worker.
KEYS_AHEAD_PER_WORKER = 4


class PrefetchHost(Protocol):
    """What the prefetch needs from the session: its connection, accounts and failure rules."""

    @property
    def fetchers(self) -> Mapping[str, Fetcher]:
        """The fetcher of each account."""
        ...

    @property
    def max_per_page(self) -> int:
        """The provider's largest page."""
        ...

    @property
    def skip_failed(self) -> bool:
        """Whether a failing account is left out (else its error fails the statement)."""
        ...

    def key_rows(self, query: str) -> Iterator[tuple[Any, ...]]:
        """The rows of a key query, run as part of the current statement as they are read."""
        ...


class KeyWindow:
    """Keys read from a key query and started `ahead` keys in front of the ones asked for.

    Args:
        keys: the key query's keys, in the order the nested loop will ask for them.
        start: starts the calls for some keys (each answer let go after its one read).
        ahead: keys started and not asked for yet, at most.
    """

    def __init__(
        self, keys: Generator[Any, None, None], start: Callable[[list[Any]], None], ahead: int
    ) -> None:
        self._keys: Generator[Any, None, None] | None = keys
        self._start = start
        self._ahead_most = max(1, ahead)
        #: Started, not asked for yet (at most `ahead`).
        self._ahead: set[Any] = set()
        #: Asked for before the key query reached them (the loop ran ahead): not started again.
        self._early: set[Any] = set()

    def asked(self, key: Any) -> None:
        """The nested loop asks for `key` (None: keys of its own): top the window up past it."""
        if key is None:
            self._fill()
            return
        if key in self._ahead:
            self._ahead.discard(key)
        elif self._keys is not None:
            self._early.add(key)
        self._fill()
        self._ahead.discard(key)

    def close(self) -> None:
        """Stop reading the key query (its statement ended before the loop's last row)."""
        keys, self._keys = self._keys, None
        if keys is not None:
            keys.close()

    def _fill(self) -> None:
        keys = self._keys
        if keys is None:
            return
        wanted: list[Any] = []
        while len(self._ahead) + len(wanted) < self._ahead_most:
            key = next(keys, _END)
            if key is _END:
                self._keys = None
                self._early.clear()
                break
            if key in self._early:
                self._early.discard(key)  # the loop asked for it already: it was sent then
            elif key not in self._ahead:
                wanted.append(key)
        if wanted:
            self._ahead.update(wanted)
            self._start(wanted)


_END = object()


def prefetch_join_keys(
    host: PrefetchHost,
    resource: Resource,
    statement: Statement,
    source: KeySource,
    names: Sequence[str],
    values: Sequence[Any],
    method: Method,
) -> KeyWindow | None:
    """Start the keyed calls of a join (see the module's docstring); the window, if windowed.

    Args:
        method: the method of the Filter call that asked first (the one each key will use).

    A key query that fails only means no prefetch: the nested loop asks for each key itself.
    """
    if len(host.fetchers) == 1 and method.batch_with is None:
        (owner,) = host.fetchers
        return _windowed(host, resource, statement, source, names, values, owner)
    _whole(host, resource, statement, source, names, values)
    return None


def _windowed(
    host: PrefetchHost,
    resource: Resource,
    statement: Statement,
    source: KeySource,
    names: Sequence[str],
    values: Sequence[Any],
    owner: str,
) -> KeyWindow:
    fetcher = host.fetchers[owner]
    statement.paced_sources.add(source.source)

    def start(keys: list[Any]) -> None:
        if statement.cancel.is_set() or owner in statement.failures:
            return
        for call in _plan(host, resource, source, names, values, keys):
            # The key query is DISTINCT: the nested loop reads each answer once.
            fetcher.start(resource, call, statement, first_page(call), reads=1)

    window = KeyWindow(_keys_of(host, source), start, KEYS_AHEAD_PER_WORKER * fetcher.max_workers)
    return window


def _keys_of(host: PrefetchHost, source: KeySource) -> Generator[Any, None, None]:
    """The key query's first column, read lazily; an error ends it (the loop asks itself)."""
    try:
        for row in host.key_rows(source.query):
            yield row[0]
    except (Error, apsw.Error) as exc:
        _logger.debug("join prefetch for %s stopped: %s", source.table, exc)


def _whole(
    host: PrefetchHost,
    resource: Resource,
    statement: Statement,
    source: KeySource,
    names: Sequence[str],
    values: Sequence[Any],
) -> None:
    """Read the whole key query, then start every keyed call (per account, list-answered)."""
    try:
        rows = list(host.key_rows(source.query))
        # A key from one account's rows is looked up with that account's token only.
        by_account: dict[str, set[Any]] = {}
        reads: dict[Any, int] = {}  # the nested loop reads a key's answer once per row
        for row in rows:
            reads[row[0]] = reads.get(row[0], 0) + 1
            owners = [row[1]] if source.by_account else list(host.fetchers)
            for owner in owners:
                by_account.setdefault(owner, set()).add(row[0])
        planned = [
            (owner, _plan(host, resource, source, names, values, keys))
            for owner, keys in by_account.items()
            if owner in host.fetchers and owner not in statement.failures
        ]
    except (Error, apsw.Error) as exc:
        # The nested loop will ask for each key itself; only speed is lost.
        _logger.debug("no join prefetch for %s: %s", resource.qualified_name, exc)
        return
    for owner, calls in planned:
        fetcher = host.fetchers[owner]
        try:
            calls = answer_from_list(fetcher, resource, calls, statement)
        except OperationalError as exc:
            if not host.skip_failed:
                raise
            record_failure(statement, owner, resource, exc)
            continue
        _logger.debug(
            "join prefetch: %d calls for %s in %s", len(calls), resource.qualified_name, owner
        )
        for call in calls:
            key = call.echo.get(source.column)
            fetcher.start(resource, call, statement, first_page(call), reads=reads.get(key))


def _plan(
    host: PrefetchHost,
    resource: Resource,
    source: KeySource,
    names: Sequence[str],
    values: Sequence[Any],
    keys: Sequence[Any] | set[Any],
) -> list[Call]:
    """The same calls as this Filter's (page size, filters...), for `keys` at once."""
    every = [
        (set(keys) if name == source.column else v) for name, v in zip(names, values, strict=True)
    ]
    return plan_calls(resource, names, every, host.max_per_page, limit=row_limit(names, every))
