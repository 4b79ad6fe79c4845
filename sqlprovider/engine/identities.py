"""Refuse a list whose pages repeat an identity, in memory that stays small per record.

A repeat means the list shifted under the reader (an object created before an earlier page's
end pushes its last record onto the next page) or the API served a page twice (a `next` link
back to page 1, a proxy ignoring `page`): either way rows would be duplicated, so every
identity of every page is checked against all the earlier ones, exactly.

Exactly means remembering each identity, and a scan of 100,000 rows must not hold 100,000
Python ints in a dict (about 90 bytes each). Lists are read in an order (by id, one way or the
other), so each page's ids usually span a range no other page touches: a page is kept as its
lowest id and the sorted offsets from it, in an `array` of 2 or 4 bytes a record, and a new
page whose range meets no kept range cannot repeat any id (one bisect per page). A page whose
range meets a kept one is checked against that page's offsets; when ranges interleave without
a repeat (a list in another order), or the identities are not whole numbers, the check goes on
with a dict of every identity, as exact and as large as before. Imports `engine.*` and `spec`.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Any

from sqlprovider.engine.plan import Call
from sqlprovider.engine.rows import dig
from sqlprovider.errors import ListChangedError
from sqlprovider.spec import Resource

_MISSING = dig({}, ("absent",))
#: Typecodes for a page's offsets, by the largest offset each holds.
_WIDTHS = (("H", 1 << 16), ("I", 1 << 32), ("Q", 1 << 64))


class Identities:
    """The identities seen so far in the pages of one list call; a repeat is refused."""

    def __init__(self, resource: Resource, call: Call) -> None:
        self.resource = resource
        self.call = call
        # Within one call a path key is the same on every record: the other columns tell them apart.
        self._paths = tuple(
            column.path
            for column in map(resource.column, resource.identity)
            if column.scope == "record"
            and column.path
            and column.parameter not in call.method.path_params
        )
        #: Compact pages, sorted by their lowest id; their ranges never meet.
        self._lows: list[int] = []
        self._highs: list[int] = []
        self._numbers: list[int] = []
        self._offsets: list[array[int]] = []
        #: Every identity and its page, once the compact form no longer applies (None before).
        self._seen: dict[Any, int] | None = None
        #: The identities of page 1, in order (what a second read of it must show again).
        self.first: list[Any] = []

    def add(self, page: int, records: list[dict[str, Any]]) -> None:
        """Remember the identities of page `page`.

        Raises:
            ListChangedError: an identity already seen on an earlier page (or this one).
        """
        paths = self._paths
        if not paths:
            return
        if len(paths) == 1 and len(paths[0]) == 1:
            # The common case (`id`): set operations in C, as this runs for every record.
            key = paths[0][0]
            values: list[Any] = [record.get(key) for record in records]
        else:
            values = [tuple(dig(record, path) for path in paths) for record in records]
        if page == 1:
            self.first = values
        if not values:
            return
        try:
            fresh = set(values)
        except TypeError:  # an identity the API sent as a list or object: not comparable
            return
        if self._seen is None and len(fresh) == len(values) and self._add_compact(page, values):
            return
        self._add_to_dict(page, values, fresh)

    def _add_compact(self, page: int, values: list[Any]) -> bool:
        """Keep a page of distinct whole-number ids as offsets; False when that cannot serve.

        Raises:
            ListChangedError: an id of this page on a kept page whose range it meets.
        """
        if not all(type(value) is int for value in values):
            return False
        low, high = min(values), max(values)
        code = next((code for code, bound in _WIDTHS if high - low < bound), None)
        if code is None:
            return False
        lows, highs = self._lows, self._highs
        at = bisect_right(lows, low)
        if (at and highs[at - 1] >= low) or (at < len(lows) and lows[at] <= high):
            self._check_against_kept(page, values, at, low, high)
            return False  # no repeat, but the ranges interleave: the dict takes over
        lows.insert(at, low)
        highs.insert(at, high)
        self._numbers.insert(at, page)
        self._offsets.insert(at, array(code, sorted(value - low for value in values)))
        return True

    def _check_against_kept(
        self, page: int, values: list[Any], at: int, low: int, high: int
    ) -> None:
        """Raise for the first id of `values` on a kept page whose range meets [low, high]."""
        lows, highs = self._lows, self._highs
        first = at - 1 if at and highs[at - 1] >= low else at
        last = bisect_right(lows, high)
        for index in range(first, last):
            base, offsets = lows[index], self._offsets[index]
            for value in values:
                offset = value - base
                found = bisect_left(offsets, offset)
                if found < len(offsets) and offsets[found] == offset:
                    self._refuse(page, value, self._numbers[index])

    def _add_to_dict(self, page: int, values: list[Any], fresh: set[Any]) -> None:
        """The exact check with every identity in a dict (built once from the kept pages)."""
        seen = self._seen
        if seen is None:
            seen = self._seen = {}
            for low, number, offsets in zip(self._lows, self._numbers, self._offsets, strict=True):
                seen.update(dict.fromkeys((low + offset for offset in offsets), number))
            self._lows, self._highs, self._numbers, self._offsets = [], [], [], []
        fresh.discard(None)
        if len(fresh) == len(values) and seen.keys().isdisjoint(fresh):
            seen.update(dict.fromkeys(values, page))
            return
        for value in values:
            if value is None or (isinstance(value, tuple) and _MISSING in value):
                continue
            earlier = seen.get(value)
            if earlier is not None:
                self._refuse(page, value, earlier)
            seen[value] = page

    def _refuse(self, page: int, value: Any, earlier: int) -> None:
        names = ", ".join(self.resource.identity)
        raise ListChangedError(
            f"{self.resource.qualified_name}: GET {self.call.path}: page {page} holds "
            f"{names} {value!r} again (first seen on page {earlier}): the list changed "
            "while it was being read, or the API served a page twice. No rows are "
            "returned rather than duplicates. Run it again; if it repeats, the API's "
            "pagination is at fault, not the query."
        )
