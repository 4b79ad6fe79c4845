"""apsw's exceptions turned into the PEP 249 classes, with messages that say what to do next.

The engine's own errors already carry good messages and pass through unchanged; SQLite's terse
ones ("no query solution", "no such table", a syntax error near a dot) get the next step added.
Imports `errors` and `sql.names`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import apsw

from sqlprovider import errors
from sqlprovider.sql.names import NameResolver


class ApswErrorMapping:
    """Turn apsw's exceptions into PEP 249 ones; the engine's own errors pass unchanged.

    Args:
        refusals: returns why plans were refused, to explain SQLite's "no query solution".
        on_error: called with any exception before it propagates (to stop the statement).
    """

    def __init__(
        self,
        refusals: Callable[[], Iterable[str]] = tuple,
        on_error: Callable[[BaseException], object] | None = None,
        *,
        names: NameResolver | None = None,
    ) -> None:
        self._refusals = refusals
        self._on_error = on_error
        self._names = names

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> Literal[False]:
        if exc is not None and self._on_error is not None:
            self._on_error(exc)
        if exc is None or isinstance(exc, errors.Error):
            return False
        converted = map_exception(exc, self._refusals(), names=self._names)
        if converted is None:
            return False
        raise converted from exc


def map_exception(
    exc: BaseException, refusals: Iterable[str] = (), *, names: NameResolver | None = None
) -> errors.Error | None:
    """The PEP 249 exception for an apsw (or interrupt) exception; None to let it through.

    Args:
        exc: what apsw raised.
        refusals: why plans were refused (explains "no query solution").
        names: the known tables, for a "did you mean" after "no such table".
    """
    if isinstance(exc, (InterruptedError, apsw.InterruptError)):
        return errors.OperationalError(
            "the statement was interrupted; its pending API requests were dropped"
        )
    if isinstance(exc, OverflowError):
        # apsw cannot bind a Python int beyond SQLite's 64-bit range (no API id is that large).
        return errors.DataError(
            f"a bound integer does not fit SQLite's 64-bit signed range ({exc}); pass a smaller "
            "value, such as a real Droplet id"
        )
    if isinstance(exc, UnicodeEncodeError):
        # A str holding lone surrogates cannot become the UTF-8 that SQLite stores.
        return errors.DataError(
            f"a bound text value is not valid Unicode ({exc}); decode it properly before binding"
        )
    if not isinstance(exc, apsw.Error):
        return None
    text = str(exc).removeprefix("SQLError: ")
    if isinstance(exc, apsw.SQLError):
        if text == "no query solution":
            reasons = "; ".join(dict.fromkeys(refusals)) or "a required key is missing"
            return errors.ProgrammingError(
                f"SQLite found no order in which to read the tables: {reasons}. Supply the key "
                "with = or IN, or with an inner JOIN from a table read first that holds it "
                "(DESCRIBE <table> names the tables that supply each key)."
            )
        if "may not be modified" in text:
            return errors.NotSupportedError(f"{text}: the DigitalOcean tables are read-only")
        return errors.ProgrammingError(text + _sql_hint(text, names))
    if isinstance(exc, apsw.ThreadingViolationError):
        return errors.InterfaceError(f"{text}; use one connection per thread")
    if isinstance(exc, apsw.ConstraintError):
        return errors.IntegrityError(text)
    if isinstance(exc, (apsw.BusyError, apsw.LockedError, apsw.CantOpenError, apsw.IOError)):
        return errors.OperationalError(text)
    if isinstance(exc, (apsw.MismatchError, apsw.TooBigError, apsw.RangeError)):
        return errors.DataError(text)
    if isinstance(exc, apsw.ReadOnlyError):
        return errors.NotSupportedError(text)
    return errors.InternalError(text)


def _sql_hint(text: str, names: NameResolver | None = None) -> str:
    """What to do next after SQLite's terse "no such table", "no such column" or syntax error."""
    if text.startswith("no such table: ") and names is not None:
        typed = text.removeprefix("no such table: ").split(".")[-1]
        return (
            f"; {names.hint(typed)} (SHOW RESOURCES lists the DigitalOcean tables; a table of "
            "your own must be created first)"
        )
    if text.startswith("no such table"):
        return (
            ". SHOW RESOURCES lists the DigitalOcean tables (digitalocean.<service>.<resource>); "
            "a table of your own must be created first"
        )
    if text.startswith("no such column"):
        return ". DESCRIBE <table> lists a table's columns"
    if text == 'near ".": syntax error':
        return (
            ". If that is a three-part name, it is not a known table: SHOW RESOURCES lists them; "
            "otherwise check the SQL around the dot"
        )
    if "syntax error" in text or text.startswith(("unrecognized token", "incomplete input")):
        return ". Check the SQL at that point (SQLite syntax, see https://sqlite.org/lang.html)"
    return ""
