"""The SQLite side: pushdown planning, fetching, record flattening and the vtable protocol."""

from __future__ import annotations

from sqlprovider.engine.session import Session
from sqlprovider.engine.statement import Statement

__all__ = ["Session", "Statement"]
