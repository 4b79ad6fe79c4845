"""`debug`: a debug-level log line, with `logging` imported at the first line, not at startup.

`logging` (with `traceback`, `tokenize` and `string` behind it) is a few milliseconds of every
process's start; `sqlprovider query "SELECT 1"` logs nothing, so it should not pay for it
(figure e). Modules on the startup path log through this; the others use `logging` directly.
Imports nothing of the package.
"""

from __future__ import annotations


def debug(logger: str, message: str, *args: object) -> None:
    """Log `message % args` at debug level on the logger named `logger`."""
    import logging

    logging.getLogger(logger).debug(message, *args)
