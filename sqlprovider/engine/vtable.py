"""The apsw virtual-table protocol: one eponymous, read-only module per resource.

The only code that knows BestIndex, Filter, Eof, Next and Column. Decisions are delegated:
`plan` chooses pushdown and calls, `fetch` runs them, `rows` turns records into values.
Imports `spec`, `engine.*` and `errors`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import apsw

from sqlprovider.engine.fetch import Page
from sqlprovider.engine.plan import Offer, plan_calls, plan_index, row_limit
from sqlprovider.engine.rows import Extractor, extractors
from sqlprovider.errors import MissingKeyColumnError
from sqlprovider.spec import Resource

if TYPE_CHECKING:
    from sqlprovider.engine.session import Session


def create_table_sql(resource: Resource) -> str:
    """The CREATE TABLE statement SQLite learns the columns from (parameters are HIDDEN)."""
    parts = []
    for column in resource.columns:
        hidden = " HIDDEN" if column.hidden else ""
        parts.append(f'"{column.name}" {column.sqlite_type}{hidden}')
    return f"CREATE TABLE x({', '.join(parts)})"


class ResourceModule:
    """Module and table at once: eponymous tables need no per-instance state."""

    def __init__(self, session: Session, resource: Resource) -> None:
        self.session = session
        self.resource = resource
        self.column_names = [c.name for c in resource.columns]
        self.extractors = extractors(resource)
        self._schema = create_table_sql(resource)

    def Connect(
        self, connection: Any, modulename: str, databasename: str, tablename: str, *args: str
    ) -> tuple[str, ResourceModule]:  # noqa: N802
        """Declare the table's columns to SQLite."""
        return self._schema, self

    Create = Connect

    def Disconnect(self) -> None:  # noqa: N802
        """Nothing to release: state lives in the session."""

    def BestIndexObject(self, info: apsw.IndexInfo) -> bool:  # noqa: N802
        """Push down what the API can take; refuse plans that cannot supply a required key."""
        offers = []
        for i in range(info.nConstraint):
            index = info.get_aConstraint_iColumn(i)
            name = self.column_names[index] if 0 <= index < len(self.column_names) else None
            offers.append(
                Offer(
                    name,
                    info.get_aConstraint_op(i),
                    info.get_aConstraint_usable(i),
                    info.get_aConstraintUsage_in(i),
                    info.get_aConstraint_rhs(i) is not None,
                )
            )
        try:
            plan = plan_index(self.resource, offers, ordered=info.nOrderBy > 0)
        except MissingKeyColumnError as exc:
            self.session.note_refusal(str(exc))
            raise
        if plan is None:
            self.session.note_refusal(
                f"{self.resource.qualified_name} can only be read once "
                f"{', '.join(self.resource.required_parameters)} "
                "is known, and no join order supplies it first"
            )
            return False
        for argv, use in enumerate(plan.uses, start=1):
            info.set_aConstraintUsage_argvIndex(use.offer, argv)
            info.set_aConstraintUsage_omit(use.offer, use.omit)
            if use.as_set:
                info.set_aConstraintUsage_in(use.offer, True)
        info.idxStr = plan.idx_str
        info.estimatedCost = plan.cost
        info.estimatedRows = plan.rows
        return True

    def Open(self) -> ResourceCursor:  # noqa: N802
        """A new cursor over this table."""
        return ResourceCursor(self)


class ResourceCursor:
    """Streams the records of one Filter call, a page at a time.

    Eof, Next and Column run once per row (Column once per value), so they do as little as
    possible: an index into the current page, and one precompiled reader per column.
    """

    def __init__(self, table: ResourceModule) -> None:
        self._table = table
        self._extractors: list[Extractor] = table.extractors
        self._pages: Iterator[Page] = iter(())
        self._records: list[dict[str, Any]] = []
        self._record: dict[str, Any] | None = None
        self._body: Any = None
        self._echo: dict[str, Any] = {}
        self._index = 0
        self._rowid = 0

    def Filter(self, indexnum: int, indexname: str | None, constraintargs: tuple[Any, ...]) -> None:  # noqa: N802
        """Start the calls for these constraint values and position on the first record."""
        self.Close()
        table = self._table
        names = indexname.split(",") if indexname else []
        limit = row_limit(names, constraintargs)
        calls = plan_calls(
            table.resource, names, constraintargs, table.session.max_per_page, limit=limit
        )
        self._pages = table.session.stream(table.resource, calls, limit)
        self._rowid = 0
        self._next_page()

    def _next_page(self) -> None:
        """Move to the first record of the next non-empty page (or to the end)."""
        try:
            while True:
                self._records, self._body, self._echo = next(self._pages)
                if self._records:
                    self._index = 0
                    self._record = self._records[0]
                    return
        except StopIteration:
            self._record = None
        except BaseException:
            self._record = None
            self._table.session.statement.finish()
            raise

    def Eof(self) -> bool:  # noqa: N802
        """Whether every record was delivered."""
        return self._record is None

    def Next(self) -> None:  # noqa: N802
        """Move to the next record (fetching later pages as needed)."""
        self._rowid += 1
        self._index += 1
        if self._index < len(self._records):
            self._record = self._records[self._index]
        else:
            self._next_page()

    def Rowid(self) -> int:  # noqa: N802
        """A row number within this Filter call."""
        return self._rowid

    def Column(self, number: int) -> Any:  # noqa: N802
        """The value of column `number` of the current record (-1 is the rowid)."""
        if number < 0:
            return self._rowid
        return self._extractors[number](self._record, self._body, self._echo)  # type: ignore[arg-type]

    def Close(self) -> None:  # noqa: N802
        """Stop the stream; queued requests of later pages are cancelled."""
        close = getattr(self._pages, "close", None)
        if close is not None:
            close()
        self._pages = iter(())
        self._records = []
        self._record = None
