"""A vtable cursor over rows computed whole when a scan starts, for the small tables served locally.

The metadata tables (`sqlprovider_resources`, `sqlprovider_stats`, ...) and the account tables
(`sqlprovider_accounts`, `sqlprovider_account_errors`) are a short list of rows made fresh at
each scan, with no constraint pushed down; they share this one cursor rather than each writing
the vtable protocol again. Imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[Any, ...]


class ComputedRowsCursor:
    """Walks the rows `compute(index_number)` returns when SQLite starts a scan.

    `index_number` is what the table's BestIndex chose (0 when it chose nothing), so a table
    can compute costly columns only when a statement reads them.
    """

    def __init__(self, compute: Callable[[int], list[Row]]) -> None:
        self._compute = compute
        self._rows: list[Row] = []
        self._i = 0

    def Filter(self, indexnum: int, *args: Any) -> None:  # noqa: N802
        self._rows, self._i = self._compute(indexnum), 0

    def Eof(self) -> bool:  # noqa: N802
        return self._i >= len(self._rows)

    def Next(self) -> None:  # noqa: N802
        self._i += 1

    def Rowid(self) -> int:  # noqa: N802
        return self._i

    def Column(self, n: int) -> Any:  # noqa: N802
        return self._i if n < 0 else self._rows[self._i][n]

    def Close(self) -> None:  # noqa: N802
        self._rows = []
