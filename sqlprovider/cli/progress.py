"""What a long command shows on stderr while it works: progress, and with --verbose each API call.

Progress is one line, rewritten in place, and only when stderr is a terminal (a pipe or a log
file gets none, so scripts see exactly the errors and warnings): API requests made, pages,
rows so far, and the time spent waiting for the API's rate limit. `--quiet` turns it off.
`--verbose` logs each API call as the client makes it (method, path, parameters, status,
milliseconds); the client never logs headers, and a filter here masks the token should any
text ever hold it.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import logging


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """`--quiet` and `--verbose`, for every command that reads the API."""
    group = parser.add_argument_group("messages on stderr")
    group.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress line (it is shown only when stderr is a terminal anyway)",
    )
    group.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="log each API call on stderr: method, path, parameters, status, milliseconds "
        "(never the token)",
    )


def is_terminal(stream: Any) -> bool:
    """Whether `stream` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressMeter:
    """A line on `stream` counting the running statement's API work, updated by a thread.

    Args:
        session: the engine session whose current statement is watched.
        stream: where the line goes (stderr).
        interval: seconds between two looks at the counters.
        rows: how many rows the command has received so far (None: not shown).
    """

    def __init__(
        self,
        session: Any,
        stream: TextIO,
        interval: float = 0.5,
        rows: Callable[[], int] | None = None,
    ) -> None:
        self._session = session
        self._stream = stream
        self._interval = interval
        self._rows = rows
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlprovider-progress", daemon=True)
        self._shown = ""
        self._tty = is_terminal(stream)

    def __enter__(self) -> ProgressMeter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._shown:
            self._stream.write("\r\x1b[K" if self._tty else "\n")
            self._stream.flush()

    def line(self) -> str:
        """The progress text now ('' before the first request)."""
        stats = self._session.statement.stats
        requests = int(stats.requests)
        if not requests:
            return ""
        parts = [f"{requests} API request{'s' if requests != 1 else ''}"]
        pages = int(stats.pages)
        parts.append(f"{pages} page{'s' if pages != 1 else ''}")
        if self._rows is not None:
            rows = self._rows()
            parts.append(f"{rows} row{'s' if rows != 1 else ''}")
        waited = float(stats.throttle_seconds)
        if waited >= 1:
            parts.append(f"waited {waited:.0f} s for the API rate limit")
        return "… " + ", ".join(parts)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            text = self.line()
            if text and text != self._shown:
                pad = " " * max(0, len(self._shown) - len(text))
                self._shown = text
                self._stream.write(f"\r{text}{pad}")
                self._stream.flush()


@contextlib.contextmanager
def showing_progress(
    enabled: bool, session: Any, stream: TextIO, rows: Callable[[], int] | None = None
) -> Iterator[None]:
    """A `ProgressMeter` while the block runs, when `enabled`."""
    if not enabled:
        yield
        return
    with ProgressMeter(session, stream, rows=rows):
        yield


class _MaskSecrets:
    """Replaces any secret in a log line (none is expected: this is the belt to the braces).

    A plain object with `filter` is a logging filter; not subclassing `logging.Filter` keeps
    `logging` out of the start of commands that log nothing.
    """

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(s in text for s in self._secrets):
            for secret in self._secrets:
                text = text.replace(secret, "[token]")
            record.msg, record.args = text, None
        return True


@contextlib.contextmanager
def logging_api_calls(enabled: bool, stream: TextIO, secrets: tuple[str, ...]) -> Iterator[None]:
    """With `enabled`, each API call of the block is logged on `stream` (`api: GET ...`)."""
    if not enabled:
        yield
        return
    import logging

    logger = logging.getLogger("sqlprovider.http")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("api: %(message)s"))
    handler.addFilter(_MaskSecrets(tuple(s for s in secrets if s)))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def secrets_of(connection: Any) -> tuple[str, ...]:
    """The connection's token, for the masking filter (never printed)."""
    token = connection.session.client.token
    return (token.reveal(),) if token is not None else ()
