"""Query parameters: how Python values are bound to a statement's placeholders.

SQLite stores text, numbers and blobs; a date or time is bound as ISO text, which is how SQLite's
date functions and the API write them, and a `Decimal` as the integer or float it equals exactly
(or refused). Imports `errors` only.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlprovider import errors

if TYPE_CHECKING:
    import decimal

#: What `execute()` takes: values for `?` placeholders in order, or for `:name` ones by name.
Parameters = Sequence[Any] | Mapping[str, Any]


def adapt(parameters: Parameters | None) -> Any:
    """Bind dates and times as ISO text, which is how SQLite (and the API) write them, and
    decimals as the numbers they equal."""
    if parameters is None:
        return None
    if isinstance(parameters, Mapping):
        return {k: adapt_value(v) for k, v in parameters.items()}
    return tuple(adapt_value(v) for v in parameters)


def adapt_value(value: Any) -> Any:
    """One value as SQLite will store it (dates and times as ISO text, decimals as numbers, the
    rest unchanged)."""
    if value is None or isinstance(value, (str, int, float, bytes)):
        return value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    import decimal  # here: a process that binds no Decimal does not load the module

    if isinstance(value, decimal.Decimal):
        return adapt_decimal(value)
    return value


def adapt_decimal(value: decimal.Decimal) -> int | float:
    """A `Decimal` as the SQLite number it equals: an integer when whole, else the float that
    prints the same (so `Decimal("2.5")` binds as 2.5). One no float can hold is refused rather
    than rounded quietly."""
    if value.is_finite() and value == value.to_integral_value():
        return int(value)
    import decimal

    as_float = float(value)
    if not value.is_finite() or decimal.Decimal(repr(as_float)) == value:
        return as_float
    raise errors.ProgrammingError(
        f"cannot bind Decimal({str(value)!r}) exactly: SQLite stores 64-bit integers and "
        "doubles only; bind float(value) or str(value) if a rounded or text value will do"
    )
