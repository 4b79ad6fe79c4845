"""`sqlprovider_accounts` and `sqlprovider_account_errors`: the accounts as SQL tables.

`sqlprovider_accounts` lists every configured account (selected by this connection or not):
its name, base URL, whether this connection reads it, and whether its token resolves; never a
token. Its `team_name` and `team_uuid` columns call the provider's `account_info` endpoint (GET
/v2/account) once per selected account, and only when a statement reads them, so listing the
accounts costs no request. `sqlprovider_account_errors` shows the accounts the previous
statement skipped (`on_account_error="skip"`). Imports `spec`, `http`, `engine.*`, `errors`.
"""

from __future__ import annotations

from typing import Any

import apsw

from sqlprovider.engine.computed_rows import ComputedRowsCursor, Row
from sqlprovider.engine.rows import dig
from sqlprovider.engine.session import Session
from sqlprovider.errors import Error
from sqlprovider.http import Account, AccountConfig, RequestStats

ACCOUNT_COLUMNS = (
    "name",
    "api_url",
    "selected",
    "token_resolves",
    "team_name",
    "team_uuid",
    "error",
)
ERROR_COLUMNS = ("account", "table_name", "status", "error")
_TEAM = frozenset({4, 5, 6})


class AccountsTable:
    """The eponymous `sqlprovider_accounts` table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def Connect(self, *args: Any) -> tuple[str, AccountsTable]:  # noqa: N802
        """Declare the columns."""
        return "CREATE TABLE x(" + ", ".join(ACCOUNT_COLUMNS) + ")", self

    Create = Connect

    def Disconnect(self) -> None:  # noqa: N802
        """Nothing to release."""

    def BestIndexObject(self, info: apsw.IndexInfo) -> bool:  # noqa: N802
        """Ask the API for teams only when the statement reads a team column."""
        info.idxNum = 1 if _TEAM & set(info.colUsed) else 0
        return True

    def Open(self) -> ComputedRowsCursor:  # noqa: N802
        """A cursor over the accounts (with teams when BestIndex chose 1)."""
        return ComputedRowsCursor(lambda index_number: self.rows(bool(index_number)))

    def rows(self, with_team: bool) -> list[Row]:
        """One row per configured account, the selected ones first."""
        session = self.session
        selected = {account.name: account for account in session.accounts}
        configured = dict(session.config.accounts) if session.config else {}
        rows = [self._selected_row(a, with_team) for a in session.accounts]
        for name, entry in configured.items():
            if name not in selected:
                rows.append(_configured_row(entry, session.provider.token_env))
        return rows

    def _selected_row(self, account: Account, with_team: bool) -> Row:
        resolves = account.token is not None
        team_name = team_uuid = None
        error = account.problem
        identity = self.session.provider.account_info
        if with_team and resolves and identity is not None:
            try:
                body = account.client.get(identity.path, {}, stats=RequestStats())
                team_name = _text(dig(body, identity.team_name))
                team_uuid = _text(dig(body, identity.team_uuid))
            except Error as exc:
                error = str(exc)
        return (account.name, account.api_url, 1, int(resolves), team_name, team_uuid, error)


def _configured_row(entry: AccountConfig, provider_env: Any) -> Row:
    try:
        resolves = entry.resolve_token(provider_env) is not None
        error = None
    except Error as exc:
        resolves, error = False, str(exc)
    return (entry.name, entry.api_url, 0, int(resolves), None, None, error)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def error_rows(session: Session) -> list[Row]:
    """The accounts the previous statement skipped, one row each."""
    return [(f.account, f.table, f.status, f.error) for f in session.last_failures()]
