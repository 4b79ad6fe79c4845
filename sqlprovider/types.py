"""PEP 249 type constructors and type objects.

A result column's type code (`description[i][1]`) is its declared SQLite type, such as
``INTEGER`` or ``JSON``; the type objects compare equal to the codes of their SQLite affinity.
"""

from __future__ import annotations

import datetime
import time

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> datetime.date:  # noqa: N802 - name fixed by PEP 249
    """The local date of a POSIX timestamp."""
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:  # noqa: N802
    """The local time of day of a POSIX timestamp."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:  # noqa: N802
    """The local date and time of a POSIX timestamp."""
    return Timestamp(*time.localtime(ticks)[:6])


class _TypeObject:
    """Equal to every declared type whose SQLite affinity is in `affinities`."""

    def __init__(self, name: str, *affinities: str) -> None:
        self._name = name
        self._affinities = affinities

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and affinity(other) in self._affinities

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return self._name


def affinity(declared: str | None) -> str:
    """SQLite's affinity rules for a declared column type (section 3.1 of datatype3.html)."""
    text = (declared or "").upper()
    if "INT" in text:
        return "INTEGER"
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in text or not text:
        return "BLOB"
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


STRING = _TypeObject("STRING", "TEXT")
BINARY = _TypeObject("BINARY", "BLOB")
NUMBER = _TypeObject("NUMBER", "INTEGER", "REAL", "NUMERIC")
DATETIME = _TypeObject("DATETIME", "TEXT", "NUMERIC")
ROWID = _TypeObject("ROWID", "INTEGER")
