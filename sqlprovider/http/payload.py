"""A response body as it is kept (`Body`), its JSON (`parse`), and a large one left unparsed.

Why large bodies get their own path: a list page is about a megabyte. Read and parsed on a
worker thread, its bytes and the string JSON decodes them to come from that thread's malloc
arena, and once glibc has freed one such block it raises its mmap threshold, so later ones are
carved from the arenas, which keep their freed tops. With sixteen workers, sixteen arenas each
keep about a megabyte: peak memory grew with the number of pages read, not with what was held.
So a body of `LARGE` bytes or more is read into an anonymous mmap (`body.read_body`), which
malloc never sees, and a caller that reads pages on one thread asks for it unparsed
(`Unparsed`): its big string is then made on that one thread. The host's allocator settings
are left alone. Imports nothing from sqlprovider.
"""

from __future__ import annotations

import json
import mmap
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LARGE", "Body", "Unparsed", "is_blank", "parse"]

#: Bodies this large or larger are kept in an anonymous mmap (glibc's own initial mmap threshold).
LARGE = 128 * 1024

#: A decoded response body: bytes, or an anonymous mmap for one of `LARGE` bytes or more.
Body = bytes | mmap.mmap


def parse(body: Body) -> Any:
    """The JSON of `body`, decoded as `json.loads` decodes bytes (the encoding it detects).

    Raises:
        ValueError, RecursionError: as `json.loads`.
    """
    if isinstance(body, mmap.mmap):
        return json.loads(str(body, json.detect_encoding(body[:4]), "surrogatepass"))
    return json.loads(body)


def is_blank(body: Body) -> bool:
    """Whether `body` holds nothing but whitespace (a large body never does in practice)."""
    return not (body[:] if isinstance(body, mmap.mmap) else body).strip()


class Unparsed:
    """A large 2xx body, parsed by whichever thread first asks for its `value()`.

    Parsing it on the worker that read it would be judged at once and retried when it is not
    JSON; parsed later, a body that is not JSON is fetched again through `reload` (the client's
    ordinary path, with its retries and its error), so the outcome is the same.
    """

    def __init__(self, body: mmap.mmap, reload: Callable[[], Any]) -> None:
        self._body: mmap.mmap | None = body
        self._reload = reload
        self._value: Any = None
        self._lock = threading.Lock()

    def value(self) -> Any:
        """The parsed JSON (once; later calls, from any thread, share it)."""
        with self._lock:
            body = self._body
            if body is None:
                return self._value
            try:
                self._value = parse(body)
            except (ValueError, RecursionError):
                self._value = self._reload()
            self._body = None
            return self._value
