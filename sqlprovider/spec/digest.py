"""`sha256_hex`: the SHA-256 of some bytes, without loading OpenSSL for it.

`hashlib.sha256` is OpenSSL's, and importing `hashlib` loads libcrypto: about a thirtieth of
`sqlprovider query`'s start, for two short digests (the token fingerprint, the spec cache key).
CPython's own builtin module computes the same digest. Imports nothing of the package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any


@cache
def _sha256() -> Callable[[bytes], Any]:
    # `_sha2` since CPython 3.12, `_sha256` before; hashlib where neither is built in.
    for name in ("_sha2", "_sha256"):
        try:
            return importlib.import_module(name).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    import hashlib

    return hashlib.sha256


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of `data`, in hex (as `hashlib.sha256(data).hexdigest()`)."""
    return str(_sha256()(data).hexdigest())
