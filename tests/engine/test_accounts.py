"""Several accounts in one connection: tagged rows, pushdown, joins within an account, failures.

The sandbox serves three accounts whose estates differ (their own seeds) while half of their
Droplet ids are the same, so a row answered with the wrong token, or a join that matched across
accounts, shows up as a difference from that account's own single-account connection.
"""

from __future__ import annotations

import collections
import io
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.cli.shell import ProviderShell
from sqlprovider.integrations.export import export
from sqlprovider.sandbox import Faults, Sandbox
from tests.conftest import FAST, UNLIMITED

DROPLETS = "digitalocean.compute.droplets"
BACKUPS = "digitalocean.compute.droplet_backups"
POLICIES = "digitalocean.compute.droplet_backup_policies"
NAMES = ("sandbox1", "sandbox2", "sandbox3")

JOIN = (
    f"SELECT d.account, d.id, d.name, b.id AS backup, b.created_at FROM {DROPLETS} d "
    f"JOIN {BACKUPS} b ON b.droplet_id = d.id ORDER BY 1, 2, 4"
)
POLICY_JOIN = (
    f"SELECT d.account, d.id, p.backup_enabled, p.backup_policy_plan FROM {DROPLETS} d "
    f"LEFT JOIN {POLICIES} p ON p.droplet_id = d.id ORDER BY 1, 2"
)


@pytest.fixture(scope="module")
def estates() -> Iterator[Sandbox]:
    """Three accounts, 16 Droplets each, the first 8 ids shared by all."""
    with Sandbox(seed=21, droplets=16, clusters=3, accounts=3, **UNLIMITED) as sb:
        yield sb


def several(sb: Sandbox, **kwargs: Any) -> sqlprovider.Connection:
    return sqlprovider.connect(config=sb.config(), **{"accounts": "*", **FAST, **kwargs})


def alone(sb: Sandbox, name: str, **kwargs: Any) -> sqlprovider.Connection:
    return sqlprovider.connect(
        token=sb.account_named(name).token, api_url=sb.url, **{**FAST, **kwargs}
    )


def rows_of(connection: sqlprovider.Connection, sql: str) -> list[tuple[Any, ...]]:
    return connection.execute(sql).fetchall()


def single_account_rows(sb: Sandbox, sql: str, **kwargs: Any) -> list[tuple[Any, ...]]:
    """What each account's own connection answers, with its name put in the account column."""
    expected = []
    for name in NAMES:
        with alone(sb, name, **kwargs) as connection:
            expected += [(name, *row[1:]) for row in rows_of(connection, sql)]
    return sorted(expected, key=repr)


def test_the_sandbox_accounts_share_some_ids_but_not_their_data(estates: Sandbox) -> None:
    first, second = (estates.account_named(n).account for n in NAMES[:2])
    shared = set(first.droplet_ids()) & set(second.droplet_ids())
    assert len(shared) == 8
    assert set(first.droplet_ids()) != set(second.droplet_ids())
    some = min(shared)
    assert first.droplet(some) != second.droplet(some)


def test_every_row_says_its_account_and_each_account_answers_as_its_own_connection(
    estates: Sandbox,
) -> None:
    with several(estates) as connection:
        counts = rows_of(
            connection, f"SELECT account, count(*) FROM {DROPLETS} GROUP BY account ORDER BY 1"
        )
        assert counts == [(name, 16) for name in NAMES]
        for sql in (JOIN, POLICY_JOIN):
            got = sorted(rows_of(connection, sql), key=repr)
            assert got == single_account_rows(estates, sql)
            assert {row[0] for row in got} == set(NAMES)


def test_select_star_hides_the_account_column(estates: Sandbox) -> None:
    with several(estates) as connection:
        cursor = connection.execute(f"SELECT * FROM {DROPLETS} LIMIT 1")
        assert "account" not in [d[0] for d in cursor.description or ()]


def test_where_account_asks_only_that_accounts_api(estates: Sandbox) -> None:
    with several(estates) as connection:
        estates.clear_requests()
        rows = rows_of(connection, f"SELECT account, id FROM {DROPLETS} WHERE account = 'sandbox2'")
        assert {row[0] for row in rows} == {"sandbox2"}
        assert len(rows) == 16
        assert {r.account for r in estates.requests} == {"sandbox2"}
        estates.clear_requests()
        rows = rows_of(
            connection,
            f"SELECT DISTINCT account FROM {DROPLETS} WHERE account IN ('sandbox1', 'sandbox3')",
        )
        assert sorted(rows) == [("sandbox1",), ("sandbox3",)]
        assert {r.account for r in estates.requests} == {"sandbox1", "sandbox3"}


def test_an_unknown_account_in_where_is_an_error_and_sends_nothing(estates: Sandbox) -> None:
    with several(estates) as connection:
        estates.clear_requests()
        with pytest.raises(
            sqlprovider.ProgrammingError, match=r"no account named 'prod'.*sandbox1"
        ):
            rows_of(connection, f"SELECT id FROM {DROPLETS} WHERE account = 'prod'")
        assert estates.requests == []


def test_a_join_key_is_looked_up_only_with_the_token_of_the_account_it_came_from(
    estates: Sandbox,
) -> None:
    owned = {
        (name, droplet_id)
        for name in NAMES
        for droplet_id in estates.account_named(name).account.droplet_ids()
    }
    with several(estates) as connection:
        estates.clear_requests()
        rows = rows_of(connection, JOIN)
    asked = [
        (r.account, int(r.path.split("/")[3]))
        for r in estates.requests
        if r.path.endswith("/backups") and r.path != "/v2/droplets/backups"
    ]
    assert rows
    assert asked
    assert set(asked) <= owned
    # Each account asked about each of its own Droplets once, never another account's.
    assert collections.Counter(a for a, _ in asked) == {name: 16 for name in NAMES}


def test_joins_match_within_an_account_without_saying_so_in_on(estates: Sandbox) -> None:
    sql = (
        f"SELECT a.account, b.account FROM {DROPLETS} a JOIN {DROPLETS} b ON b.id = a.id "
        "WHERE a.account <> b.account"
    )
    with several(estates) as connection:
        assert rows_of(connection, sql) == []
        matched = rows_of(
            connection, f"SELECT count(*) FROM {DROPLETS} a JOIN {DROPLETS} b ON b.id = a.id"
        )
        assert matched == [(48,)]


def test_cache_and_memo_never_answer_one_account_with_another_accounts_rows(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=33, droplets=12, accounts=3)
    uncached = single_account_rows(sb, JOIN)
    with several(sb, cache_ttl=300) as connection:
        for _ in range(2):  # the second time every answer comes from the cache
            assert sorted(rows_of(connection, JOIN), key=repr) == uncached
        assert connection.last_stats["requests"] == 0
    # Single-account connections of the same process, same cache: still their own rows.
    assert single_account_rows(sb, JOIN, cache_ttl=300) == uncached


def test_a_failing_account_fails_the_statement_naming_the_account_and_cause(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=34, droplets=6, accounts=3)
    sb.set_faults(Faults(rate=1.0, kinds=("401",)), account="sandbox2")
    with several(sb) as connection, pytest.raises(sqlprovider.OperationalError) as caught:
        rows_of(connection, f"SELECT count(*) FROM {DROPLETS}")
    assert "account 'sandbox2'" in str(caught.value)
    assert "refused the token" in str(caught.value)


def test_skipping_a_failing_account_returns_the_others_and_records_the_failure(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(seed=35, droplets=8, accounts=3)
    sb.set_faults(Faults(rate=1.0, kinds=("503",)), account="sandbox3")
    with several(sb, on_account_error="skip", retries=1) as connection:
        cursor = connection.execute(JOIN)
        got = sorted(cursor.fetchall(), key=repr)
        [failure] = cursor.account_errors
        assert failure["account"] == "sandbox3"
        assert failure["status"] == 503
        assert "kept failing" in failure["error"]
        recorded = rows_of(connection, "SELECT account, status FROM sqlprovider_account_errors")
        assert recorded == [("sandbox3", 503)]
        sb.set_faults(None, account="sandbox3")
        clean = connection.execute(f"SELECT count(*) FROM {DROPLETS}")
        assert clean.fetchall() == [(24,)]
        assert clean.account_errors == []
    assert {row[0] for row in got} == {"sandbox1", "sandbox2"}
    expected = [row for row in single_account_rows(sb, JOIN) if row[0] != "sandbox3"]
    assert got == expected


def test_the_accounts_table_calls_the_api_only_for_the_team_columns(estates: Sandbox) -> None:
    with several(estates) as connection:
        estates.clear_requests()
        listed = rows_of(
            connection, "SELECT name, selected, token_resolves FROM sqlprovider_accounts"
        )
        assert listed == [(name, 1, 1) for name in NAMES]
        assert estates.requests == []
        teams = rows_of(connection, "SELECT name, team_name, team_uuid FROM sqlprovider_accounts")
        assert [r.path for r in estates.requests] == ["/v2/account"] * 3
        everything = rows_of(connection, "SELECT * FROM sqlprovider_accounts")
    assert [(n, t) for n, t, _ in teams] == [(name, f"{name} team") for name in NAMES]
    assert all(len(uuid) == 32 for _, _, uuid in teams)
    tokens = {a.token for a in estates.accounts}
    assert not any(str(value) in tokens for row in everything for value in row)


def test_connect_token_is_one_account_named_default(estates: Sandbox) -> None:
    with alone(estates, "sandbox1") as connection:
        assert connection.accounts == ("default",)
        assert rows_of(connection, f"SELECT DISTINCT account FROM {DROPLETS}") == [("default",)]
    with pytest.raises(sqlprovider.InterfaceError, match="not both"):
        sqlprovider.connect(token="x", accounts="*")


def test_the_config_file_names_the_accounts(
    estates: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'default_accounts = "one"\n'
        f'[accounts.one]\ntoken_env = "T_ONE"\napi_url = "{estates.url}"\n'
        f'[accounts.two]\ntoken_env = "T_TWO"\napi_url = "{estates.url}"\n'
    )
    monkeypatch.setenv("SQLPROVIDER_CONFIG", str(path))
    monkeypatch.setenv("T_ONE", estates.account_named("sandbox1").token)
    monkeypatch.setenv("T_TWO", estates.account_named("sandbox3").token)
    with sqlprovider.connect(**FAST) as connection:
        assert connection.accounts == ("one",)
    with sqlprovider.connect(accounts=["one", "two"], **FAST) as connection:
        got = rows_of(connection, f"SELECT account, count(*) FROM {DROPLETS} GROUP BY 1")
        listed = rows_of(connection, "SELECT name FROM sqlprovider_accounts")
    assert got == [("one", 16), ("two", 16)]
    assert listed == [("one",), ("two",)]
    monkeypatch.delenv("T_TWO")
    with pytest.raises(sqlprovider.InterfaceError, match=r"account 'two': \$T_TWO"):
        sqlprovider.connect(accounts="*")
    with sqlprovider.connect(accounts="*", on_account_error="skip", **FAST) as connection:
        cursor = connection.execute(f"SELECT account, count(*) FROM {DROPLETS} GROUP BY 1")
        assert cursor.fetchall() == [("one", 16)]
        assert [e["account"] for e in cursor.account_errors] == ["two"]


def test_sqlalchemy_url_selects_accounts(estates: Sandbox, tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    path = tmp_path / "config.toml"
    path.write_text(
        "".join(
            f'[accounts.{a.name}]\ntoken = "{a.token}"\napi_url = "{estates.url}"\n'
            for a in estates.accounts
        )
    )
    path.chmod(0o600)
    engine = create_engine(f"sqlprovider://?accounts=sandbox1,sandbox3&config={path}")
    with engine.connect() as connection:
        got = connection.execute(
            text(f"SELECT account, count(*) FROM {DROPLETS} GROUP BY 1")
        ).fetchall()
    engine.dispose()
    assert [tuple(row) for row in got] == [("sandbox1", 16), ("sandbox3", 16)]


def test_export_carries_the_account(estates: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "snapshot.db"
    with several(estates) as connection:
        export(connection, target, tables=[DROPLETS])
    with sqlite3.connect(target) as db:
        got = db.execute(
            "SELECT account, count(*) FROM digitalocean_compute_droplets GROUP BY 1"
        ).fetchall()
    assert got == [(name, 16) for name in NAMES]


def test_cli_all_accounts_on_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "query",
            "--sandbox",
            "--all-accounts",
            "--sandbox-droplets",
            "4",
            "--format",
            "csv",
            f"SELECT account, count(*) AS n FROM {DROPLETS} GROUP BY 1",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.split() == [
        "account,n",
        "sandbox1,4",
        "sandbox2,4",
        "sandbox3,4",
    ]


def test_cli_warns_about_a_skipped_account_and_marks_aggregates(
    estates: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[accounts.good]\ntoken = "{estates.token}"\napi_url = "{estates.url}"\n'
        f'[accounts.revoked]\ntoken = "not-a-sandbox-token"\napi_url = "{estates.url}"\n'
    )
    path.chmod(0o600)
    sql = f"SELECT count(*) FROM {DROPLETS}"
    args = ["query", "--config", str(path), "--all-accounts", "--format", "csv", sql]
    assert main(args) == 1
    assert "account 'revoked'" in capsys.readouterr().err
    assert main([*args[:-1], "--skip-failed-accounts", sql]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == ["count(*)", "16"]
    assert "warning: account 'revoked' was skipped" in captured.err
    assert "aggregates in this result" in captured.err


def test_the_shell_keeps_every_accounts_token_out_of_its_history(estates: Sandbox) -> None:
    with several(estates) as connection:
        shell = ProviderShell(connection, stdin=io.StringIO(""), stdout=io.StringIO())
        assert set(shell.secrets) == {a.token for a in estates.accounts}


def test_writes_on_a_connection_with_several_accounts_are_refused(estates: Sandbox) -> None:
    some = estates.account.droplet_ids()[0]
    with several(estates, allow_writes=True) as connection:
        estates.clear_requests()
        with pytest.raises(sqlprovider.NotSupportedError, match="several accounts"):
            connection.execute(
                f"UPDATE {POLICIES} SET backup_enabled = 0 WHERE droplet_id = {some}"
            )
    assert not [r for r in estates.requests if r.method != "GET"]


def test_the_shell_reads_every_sandbox_account(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO(f".mode csv\nSELECT account, count(*) FROM {DROPLETS} GROUP BY 1;\n"),
    )
    args = ["shell", "--sandbox", "--all-accounts", "--sandbox-droplets", "3", "--no-progress"]
    assert main(args) == 0
    assert capsys.readouterr().out.split() == ["sandbox1,3", "sandbox2,3", "sandbox3,3"]
