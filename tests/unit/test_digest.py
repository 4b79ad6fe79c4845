"""`spec.digest.sha256_hex` is SHA-256 (token fingerprints and spec cache names depend on it)."""

from __future__ import annotations

import hashlib

import pytest

from sqlprovider.spec.digest import sha256_hex


@pytest.mark.parametrize("data", [b"", b"abc", b"dop_v1_" + bytes(range(256))])
def test_sha256_hex_is_hashlibs_sha256(data: bytes) -> None:
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
