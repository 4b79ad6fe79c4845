"""A connection's statement machinery (each account's `Fetcher`, the `Writer`), made when needed.

Every CLI call pays for what `connect()` imports, and requests, paging and writes are most of
the engine: `SELECT 1` and the metadata tables never use them. So the fetchers are made (and
`engine.fetch` imported) by the first statement that reads an API table, and the writer by the
first write; until then the connection holds only this.
Imports `engine.*` only: `engine.fetch` and `engine.writer` when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlprovider.engine.fetch import Fetcher
    from sqlprovider.engine.session import Session
    from sqlprovider.engine.writer import Writer


class Machinery:
    """Each account's fetcher and the connection's writer, made at first use.

    Args:
        session: the session they serve (its accounts, one fetcher each; the writer runs its
            lookups through it).
        max_concurrency: parallel requests per statement and account (a fetcher's workers and
            its window of pages ahead).
    """

    def __init__(self, session: Session, max_concurrency: int) -> None:
        self._session = session
        self._max_concurrency = max_concurrency
        self._fetchers: dict[str, Fetcher] | None = None
        self._writer: Writer | None = None

    @property
    def fetchers(self) -> dict[str, Fetcher]:
        """Each account's `Fetcher` by account name, made when a statement first needs one."""
        if self._fetchers is None:
            from sqlprovider.engine.fetch import Fetcher

            accounts = self._session.accounts
            several = len(accounts) > 1
            self._fetchers = {
                account.name: Fetcher(
                    account.client,
                    self._max_concurrency,
                    self._session.provider.pagination,
                    window=self._max_concurrency,
                    account=account.name,
                    name_errors=several,
                )
                for account in accounts
            }
        return self._fetchers

    @property
    def writer(self) -> Writer:
        """Plans, stages and sends the connection's writes (made at the first write)."""
        if self._writer is None:
            from sqlprovider.engine.writer import Writer

            self._writer = Writer(self._session, self._session.provider, self._session.options)
        return self._writer

    def take_write_report(self) -> list[str]:
        """The writer's lines for batches not yet reported; none when nothing was written."""
        return self._writer.take_report() if self._writer is not None else []

    def statement_started(self) -> None:
        """A new statement runs: the writer forgets the rows the previous one read."""
        if self._writer is not None:
            self._writer.forget_rows()

    def close(self) -> None:
        """Stop the fetchers' workers (none were started when no fetcher was made)."""
        for fetcher in (self._fetchers or {}).values():
            fetcher.close()
