"""The apsw virtual-table protocol: one eponymous module per resource.

The only code that knows BestIndex, Filter, Eof, Next and Column, and the write side (the
Update* methods and the transaction calls SQLite makes: Begin, Savepoint, Sync, Commit...).
Decisions are delegated: `plan` chooses pushdown and calls, `fetch` runs them, `rows` turns
records into values, the session's `Writer` plans, stages and sends writes.
Every table also has a hidden `account` column (the engine's, not the spec's): an `=` or `IN`
on it is consumed here and reaches the session as the `$account` argument, so only those
accounts' APIs are called. Imports `spec`, `engine.*` and `errors`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any, Protocol

import apsw

from sqlprovider.errors import MissingKeyColumnError, NotSupportedError
from sqlprovider.spec import Resource

if TYPE_CHECKING:
    # Planning and reading rows are imported by the first statement that plans a table (in
    # BestIndex and Open), so registering the tables at connect stays cheap.
    from sqlprovider.engine.pages import Page
    from sqlprovider.engine.rows import RowBuilder
    from sqlprovider.engine.rows_memo import RowsMemo
    from sqlprovider.engine.writer import Writer
    from sqlprovider.http import Account


class TableHost(Protocol):
    """What a table needs from the engine session that owns it.

    A Protocol rather than `Session` itself, so that this module does not import
    `engine.session` (which imports this one to register the tables): no import cycle.
    """

    @property
    def writer(self) -> Writer:
        """Plans, stages and sends the writes of the connection."""
        ...

    @property
    def accounts(self) -> Sequence[Account]:
        """The accounts rows come from, the default first."""
        ...

    @property
    def multi_account(self) -> bool:
        """Whether rows can come from more than one account."""
        ...

    def note_refusal(self, reason: str) -> None:
        """Remember why a plan was refused, to explain SQLite's "no query solution"."""
        ...

    def stream(
        self, resource: Resource, names: Sequence[str], values: Sequence[Any]
    ) -> Iterator[tuple[str, Page]]:
        """The (account, page) pairs for one Filter call."""
        ...

    @property
    def rows_memo(self) -> RowsMemo:
        """The rows of cached pages, kept for later statements."""
        ...


#: The hidden column naming the account a row came from, after the spec's columns.
ACCOUNT_COLUMN = "account"
#: The name under which an `account` constraint reaches Filter.
ACCOUNT_ARG = "$account"
#: SQLite's code for an `=` constraint (IN lists arrive as `=` too).
_OP_EQ = 2


def create_table_sql(resource: Resource) -> str:
    """The CREATE TABLE statement SQLite learns the columns from (parameters are HIDDEN)."""
    parts = []
    for column in resource.columns:
        hidden = " HIDDEN" if column.hidden else ""
        parts.append(f'"{column.name}" {column.sqlite_type}{hidden}')
    parts.append(f'"{ACCOUNT_COLUMN}" TEXT HIDDEN')
    return f"CREATE TABLE x({', '.join(parts)})"


class ResourceModule:
    """Module and table at once: eponymous tables need no per-instance state."""

    def __init__(self, session: TableHost, resource: Resource) -> None:
        self.session = session
        self.resource = resource
        self.column_names = [c.name for c in resource.columns]
        self._builders: dict[str, RowBuilder] = {}
        self._schema = create_table_sql(resource)
        # An updatable table's rowid is its identity, so the row an UPDATE names is found again
        # whichever Filter call (IN list, join) produced it.
        self.rowid_index: int | None = None
        if resource.write("UPDATE") is not None:
            self.rowid_index = self.column_names.index(resource.identity[0])

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
        from sqlprovider.engine.plan import Offer, plan_index

        offers = []
        account_offer: int | None = None
        for i in range(info.nConstraint):
            index = info.get_aConstraint_iColumn(i)
            name = self.column_names[index] if 0 <= index < len(self.column_names) else None
            if (
                index == len(self.column_names)
                and info.get_aConstraint_op(i) == _OP_EQ
                and info.get_aConstraint_usable(i)
                and account_offer is None
            ):
                account_offer = i
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
        params = plan.idx_str
        if account_offer is not None:
            # `account = ...` is applied exactly (only those accounts are asked), as a set for IN.
            info.set_aConstraintUsage_argvIndex(account_offer, len(plan.uses) + 1)
            info.set_aConstraintUsage_omit(account_offer, True)
            if info.get_aConstraintUsage_in(account_offer):
                info.set_aConstraintUsage_in(account_offer, True)
            params = ",".join(filter(None, (params, ACCOUNT_ARG)))
        info.idxStr = params + "|" + ",".join(map(str, self._used_columns(info)))
        info.estimatedCost = plan.cost
        info.estimatedRows = plan.rows
        return True

    def _used_columns(self, info: apsw.IndexInfo) -> list[int]:
        """The columns the statement reads; SQLite's bit 63 stands for "63 and above"."""
        used = set(info.colUsed)
        if any(index >= 63 for index in used):
            used |= set(range(63, len(self.column_names) + 1))
        return sorted(i for i in used if i < len(self.column_names))

    def builder(self, used: str) -> RowBuilder:
        """The row builder for a set of used columns (cached: plans repeat)."""
        builder = self._builders.get(used)
        if builder is None:
            from sqlprovider.engine.rows import row_builder

            columns = frozenset(int(i) for i in used.split(",") if i)
            builder = self._builders[used] = row_builder(self.resource, columns)
        return builder

    def Open(self) -> ResourceCursor:  # noqa: N802
        """A new cursor over this table."""
        return ResourceCursor(self)

    # --- writes: planned per row, staged, sent at commit -----------------------------------

    def UpdateChangeRow(self, row: int, newrowid: int, fields: tuple[Any, ...]) -> None:  # noqa: N802
        """One row of an UPDATE (unchanged columns arrive as `apsw.no_change`)."""
        self.session.writer.update(self.resource, row, newrowid, self._spec_fields(fields))

    def UpdateInsertRow(self, rowid: int | None, fields: tuple[Any, ...]) -> int:  # noqa: N802
        """One row of an INSERT."""
        return self.session.writer.insert(self.resource, self._spec_fields(fields))

    def _spec_fields(self, fields: tuple[Any, ...]) -> tuple[Any, ...]:
        """The spec's columns of a written row, once the engine's `account` is known safe.

        A write goes to one token; on a connection with several accounts the row's account
        would have to choose it (and ids repeat across accounts), so such writes are refused
        rather than sent with the first account's token.
        """
        if self.session.multi_account:
            raise NotSupportedError(
                f"{self.resource.qualified_name}: writes on a connection with several accounts "
                "are not supported; open one on the account to change (accounts=['NAME'] or "
                "--account NAME) and write there"
            )
        account = fields[len(self.column_names)] if len(fields) > len(self.column_names) else None
        if account is not apsw.no_change and account not in (None, self.session.accounts[0].name):
            raise NotSupportedError(
                f"{self.resource.qualified_name}: the account column cannot be set; it says "
                "which account a row came from"
            )
        return fields[: len(self.column_names)]

    def UpdateDeleteRow(self, rowid: int) -> None:  # noqa: N802
        """One row of a DELETE (refused: no resource declares one)."""
        self.session.writer.delete(self.resource)

    def Begin(self) -> None:  # noqa: N802
        """A statement begins writing to this table (staging starts lazily)."""
        self.session.writer.begin(self.resource)

    def Savepoint(self, level: int) -> None:  # noqa: N802
        """A statement or SAVEPOINT inside a transaction begins."""
        self.session.writer.savepoint(level)

    def Release(self, level: int) -> None:  # noqa: N802
        """Savepoints from `level` on are merged."""
        self.session.writer.release(level)

    def RollbackTo(self, level: int) -> None:  # noqa: N802
        """Forget what was staged since savepoint `level`."""
        self.session.writer.rollback_to(level)

    def Sync(self) -> None:  # noqa: N802
        """Phase one of COMMIT: send the staged calls; an error here fails the COMMIT."""
        self.session.writer.sync()

    def Commit(self) -> None:  # noqa: N802
        """Phase two of COMMIT: the calls were sent in Sync."""

    def Rollback(self) -> None:  # noqa: N802
        """ROLLBACK (or a failed autocommit statement): nothing staged is sent."""
        self.session.writer.rollback()


class ResourceCursor:
    """Streams the records of one Filter call, a page at a time.

    Eof, Next and Column run once per row (Column once per value), so they do as little as
    possible: the rows of the current page are built lazily by the generated builder (only the
    columns the statement reads), one per Next, through `map` so the loop itself runs in C.
    """

    def __init__(self, table: ResourceModule) -> None:
        self._table = table
        self._build: RowBuilder = table.builder("")
        self._pages: Iterator[tuple[str, Page]] = iter(())
        self._rows: Iterator[tuple[Any, ...]] = iter(())
        self._row: tuple[Any, ...] | None = None
        self._rowid = 0
        self._account = ""

    def Filter(self, indexnum: int, indexname: str | None, constraintargs: tuple[Any, ...]) -> None:  # noqa: N802
        """Start the calls for these constraint values and position on the first record."""
        self.Close()
        table = self._table
        params, _, used = (indexname or "").partition("|")
        self._build = table.builder(used)
        names = params.split(",") if params else []
        self._pages = table.session.stream(table.resource, names, constraintargs)
        self._rowid = 0
        self._next_page()

    def _next_page(self) -> None:
        """Move to the first record of the next non-empty page (or to the end)."""
        # An error propagates as is; the caller (DB-API, shell) stops the whole statement. A
        # failing nested key query must not stop the statement that ran it.
        self._row = None
        build = self._build
        for account, (records, body, echo, stored) in self._pages:
            self._account = account
            if stored is None:
                self._rows = map(build, records, repeat(body), repeat(echo))
            else:  # the response cache keeps this page: its rows may be built already
                memo = self._table.session.rows_memo
                self._rows = iter(memo.rows(stored, build, records, body, echo))
            self._row = next(self._rows, None)
            if self._row is not None:
                return

    def Eof(self) -> bool:  # noqa: N802
        """Whether every record was delivered."""
        return self._row is None

    def Next(self) -> None:  # noqa: N802
        """Move to the next record (fetching later pages as needed)."""
        self._rowid += 1
        self._row = next(self._rows, None)
        if self._row is None:
            self._next_page()

    def Rowid(self) -> int:  # noqa: N802
        """The row's identity for an updatable table (remembered for UPDATE), else a number."""
        index = self._table.rowid_index
        if index is None or self._row is None or self._row[index] is None:
            return self._rowid
        rowid = int(self._row[index])
        self._table.session.writer.remember(self._table.resource, rowid, self._row)
        return rowid

    def ColumnNoChange(self, number: int) -> Any:  # noqa: N802
        """An UPDATE leaves this column as it is: say so instead of reading it."""
        return apsw.no_change

    def Column(self, number: int) -> Any:  # noqa: N802
        """The value of column `number` of the current record (-1 is the rowid)."""
        try:
            return self._row[number] if number >= 0 else self._rowid  # type: ignore[index]
        except IndexError:  # the one column past the spec's: `account`
            return self._account

    def Close(self) -> None:  # noqa: N802
        """Stop the stream; queued requests of later pages are cancelled."""
        close = getattr(self._pages, "close", None)
        if close is not None:
            close()
        self._pages = iter(())
        self._rows = iter(())
        self._row = None
