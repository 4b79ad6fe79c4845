"""Rows built from a cached answer, kept for the next statement that reads the same bytes.

With `cache_ttl` on, a dashboard or notebook asks the same lists again and again; each scan
would parse the cached bodies and build every row anew, and building is most of its time
(figure (d) in docs/performance.md). The rows of a page are a pure function of the body's
bytes, the builder (the resource and the columns the statement reads) and the parameters
echoed into key columns, so they are kept under exactly that: the same bytes give the same rows
whenever they were read. Rows are looked up only for a page the response cache has just served
or stored (with `cache_ttl` 0 no answer is read twice, and nothing is kept), so its TTL decides
which bytes are read, as before. A page the builder refused is never kept: its error is raised
again by the next read. The page checks (shape, totals, repeated identities) still run on every
read, as they judge how the pages of one read fit together.

Bounded in rows, least recently used first out. Used on the connection's own thread only (apsw
runs one statement step at a time per connection). Imports `engine.rows` for its types only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from itertools import repeat
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlprovider.engine.rows import RowBuilder

#: Rows kept per connection: about a hundred bytes to a few hundred each, as the values are.
MAX_ROWS = 250_000


class RowsMemo:
    """The rows of cached pages by (body bytes, builder, echoed parameters)."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self._max_rows = max_rows
        self._pages: OrderedDict[Hashable, list[tuple[Any, ...]]] = OrderedDict()
        self._rows = 0

    def rows(
        self,
        source: bytes,
        build: RowBuilder,
        records: list[dict[str, Any]],
        body: Any,
        echo: dict[str, Any],
    ) -> list[tuple[Any, ...]]:
        """The rows `build` makes of `records`, the page parsed from `source`: kept ones if
        that page was built before, else built now (and kept)."""
        try:
            key: Hashable = (source, build, *echo.items())
            kept = self._pages.get(key)
        except TypeError:  # an echoed value that is not hashable: nothing to key it by
            return list(map(build, records, repeat(body), repeat(echo)))
        if kept is not None:
            self._pages.move_to_end(key)
            return kept
        made = list(map(build, records, repeat(body), repeat(echo)))
        if len(made) <= self._max_rows:
            self._pages[key] = made
            self._rows += len(made)
            while self._rows > self._max_rows:
                _, dropped = self._pages.popitem(last=False)
                self._rows -= len(dropped)
        return made

    def clear(self) -> None:
        """Let every kept row go (with the response cache: `Session.clear_cache`)."""
        self._pages.clear()
        self._rows = 0

    def __len__(self) -> int:
        """How many rows are kept."""
        return self._rows
