"""One Filter call sent to the accounts it selects, and what becomes of an account that fails.

A Filter call's `account` constraint selects accounts by name (all of the connection's by
default); the same planned calls go to each, and every account's first pages are started
before any is read, so the accounts are read in parallel. Each page goes to the cursor with the
name of its account.

With `on_account_error="skip"` an account whose calls fail is left out of the statement rather
than failing it. The result is then short of that account's rows, so the failure is recorded in
`Statement.failures` and said in a notice: never a silently partial answer. An account read
part way is left out whole (its pages are read before any is passed on), and an account once
failed is not asked again within the statement.
Imports `engine.*`, `http`, `spec` and `errors`; the paging machinery only once a call runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlprovider.engine.statement import AccountFailure, Statement, is_aggregate
from sqlprovider.engine.vtable import ACCOUNT_ARG
from sqlprovider.errors import ApiError, OperationalError, ProgrammingError
from sqlprovider.http import Account
from sqlprovider.http.debuglog import debug
from sqlprovider.spec import Resource

if TYPE_CHECKING:
    from sqlprovider.engine.fetch import Fetcher
    from sqlprovider.engine.pages import Page
    from sqlprovider.engine.plan import Call

    #: One page for the cursor, with the name of the account it came from.
    AccountPage = tuple[str, Page]


def split_account(
    names: Sequence[str], values: Sequence[Any], accounts: Sequence[Account]
) -> tuple[list[str], list[Any], list[Account]]:
    """Take the `account` constraint out of the Filter arguments; the accounts it selects.

    Raises:
        ProgrammingError: a value that names none of `accounts` (a typo must not read as an
            account with no rows).
    """
    if ACCOUNT_ARG not in names:
        return list(names), list(values), list(accounts)
    index = list(names).index(ACCOUNT_ARG)
    given = values[index]
    asked = set(given) if isinstance(given, (set, frozenset)) else {given}
    known = {account.name: account for account in accounts}
    unknown = sorted(str(v) for v in asked if v is not None and v not in known)
    if unknown:
        raise ProgrammingError(
            f"no account named {', '.join(map(repr, unknown))} on this connection; its "
            f"accounts are: {', '.join(known)} (select others with connect(accounts=...) "
            "or --account)"
        )
    rest = [i for i in range(len(names)) if i != index]
    return (
        [names[i] for i in rest],
        [values[i] for i in rest],
        [account for account in accounts if account.name in asked],
    )


def account_pages(
    resource: Resource,
    calls: list[Call],
    limit: int | None,
    statement: Statement,
    wanted: Sequence[Account],
    fetchers: Mapping[str, Fetcher],
    skip_failed: bool,
) -> Iterator[AccountPage]:
    """The pages of `calls` from every account of `wanted`, each with its account's name.

    Every account's calls are started here, before the first page is read (a plain function,
    not a generator, for that reason: the work begins at the Filter call, not at its first row).
    An account skipped already in this statement is not asked again.

    Raises:
        OperationalError: an account's call failed and failures are not skipped.
    """
    from sqlprovider.engine.batch import answer_from_list

    streams: list[tuple[str, Iterator[Page]]] = []
    for account in wanted:
        if account.name in statement.failures:
            continue
        fetcher = fetchers[account.name]
        try:
            if len(calls) > 1 and limit is None:
                answer_from_list(fetcher, resource, calls, statement)
            pages = fetcher.stream(resource, calls, statement, limit)
        except OperationalError as exc:
            if not skip_failed:
                raise
            record_failure(statement, account.name, resource, exc)
            continue
        streams.append((account.name, pages))
    return _read(resource, statement, streams, skip_failed)


def _read(
    resource: Resource,
    statement: Statement,
    streams: list[tuple[str, Iterator[Page]]],
    skip_failed: bool,
) -> Iterator[AccountPage]:
    """The accounts' pages one account after the other; every stream closed at the end."""
    try:
        for name, pages in streams:
            if not skip_failed:
                for page in pages:
                    yield name, page
                continue
            # Skipping: an account's pages are read whole first, so one that fails part
            # way contributes no rows from this call rather than some of them.
            try:
                read = list(pages)
            except OperationalError as exc:
                record_failure(statement, name, resource, exc)
                continue
            for page in read:
                yield name, page
    finally:
        for _, pages in streams:
            close = getattr(pages, "close", None)
            if close is not None:
                close()


def record_failure(
    statement: Statement, account: str, resource: Resource, exc: OperationalError
) -> None:
    """Leave `account` out of `statement`: its failure recorded once, with a notice."""
    status = exc.status if isinstance(exc, ApiError) else None
    debug(__name__, "account %s skipped: %s", account, exc)
    failure = AccountFailure(account, resource.qualified_name, status, str(exc))
    if account in statement.failures:
        return
    statement.record_failure(failure)
    # A notice on the cursor (and on stderr in the CLI and shell): never silently partial.
    notice = (
        f"account {account!r} was skipped ({resource.qualified_name}: {exc}); the result "
        "has none of its rows, or only some"
    )
    if is_aggregate(statement.sql or ""):
        notice += "; the aggregates in this result (count, sum, ...) leave it out"
    statement.note(notice)
