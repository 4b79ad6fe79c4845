"""`sha256_hex`: the SHA-256 of some bytes, without loading OpenSSL for it.

`hashlib.sha256` is OpenSSL's, and importing `hashlib` loads libcrypto: about a thirtieth of
`sqlprovider query`'s start, for two short digests (the token fingerprint, the spec cache key).
CPython's own builtin module computes the same digest. Imports nothing of the package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import cache
from typing import Any


@cache
def _sha256() -> Callable[[bytes], Any]:
    # `_sha2` since CPython 3.12, `_sha256` before (tried first: a failed import searches the
    # whole path); hashlib where neither is built in.
    names = ("_sha2", "_sha256") if sys.version_info >= (3, 12) else ("_sha256", "_sha2")
    for name in names:
        try:
            return importlib.import_module(name).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    import hashlib

    return hashlib.sha256


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of `data`, in hex (as `hashlib.sha256(data).hexdigest()`)."""
    return str(_sha256()(data).hexdigest())
