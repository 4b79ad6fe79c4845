"""The standard DB-API 2.0 compliance suite (`dbapi-compliance`) run against `sqlprovider`.

The suite creates and drops plain SQLite tables of its own, so each test gets a fresh database
file and no token: plain SQL must work without the API. The checks that only make sense for
drivers with stored procedures or multiple result sets are skipped with the reason below.
"""

from __future__ import annotations

import unittest
from pathlib import Path
from tempfile import TemporaryDirectory

import dbapi20
import pytest

import sqlprovider
import sqlprovider.dbapi

NO_PROCEDURES = (
    "SQLite has no stored procedures, so sqlprovider defines neither callproc() nor nextset() "
    "(PEP 249 makes both optional)"
)


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain SQL must not need a token: hide any the environment holds."""
    for name in ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)


class TestDatabaseAPI20(dbapi20.DatabaseAPI20Test):
    """Every check of the suite, on a fresh SQLite file per test."""

    driver = sqlprovider
    connect_args = ()

    def setUp(self) -> None:
        self._folder = TemporaryDirectory()
        self.connect_kw_args = {"database": str(Path(self._folder.name) / "dbapi20.db")}

    def tearDown(self) -> None:
        super().tearDown()
        self._folder.cleanup()

    def test_driver_has_no_callproc_or_nextset(self) -> None:
        """The optional extensions the skipped checks need are absent, not half-present."""
        connection = self._connect()
        try:
            cursor = connection.cursor()
            assert not hasattr(cursor, "callproc")
            assert not hasattr(cursor, "nextset")
        finally:
            connection.close()

    @unittest.skip(NO_PROCEDURES)
    def test_nextset(self) -> None:
        """Skipped: see NO_PROCEDURES."""

    @unittest.skip(
        "setoutputsize() is accepted and ignored: SQLite returns whole values, so there is no "
        "buffer size to set (test_setoutputsize_basic checks that it is harmless)"
    )
    def test_setoutputsize(self) -> None:
        """Skipped: the driver has nothing to size."""


class TestDatabaseAPI20OnTheDbapiModule(TestDatabaseAPI20):
    """The same checks on `sqlprovider.dbapi` itself (the module the SQLAlchemy dialect loads)."""

    driver = sqlprovider.dbapi
