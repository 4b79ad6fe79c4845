"""The same writes from the CLI, the shell and SQLAlchemy: opt-in flags, dry run on stderr,
transactions; what reached the API is read from the sandbox's request log."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from sqlprovider.cli.main import main
from sqlprovider.cli.shell import ProviderShell
from sqlprovider.sandbox import Sandbox

from ..conftest import FAST, connect_to

POLICIES = "digitalocean.compute.droplet_backup_policies"


def posts(sb: Sandbox) -> list[str]:
    return [r.path for r in sb.requests if r.method == "POST"]


def disabled(sb: Sandbox) -> list[int]:
    return [i for i in sb.account.droplet_ids() if sb.account.droplet(i).policy is None]  # type: ignore[union-attr]


@pytest.fixture
def sb(make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    sandbox = make_sandbox(seed=5, droplets=20)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", sandbox.token)
    return sandbox


def cli(sb: Sandbox, *args: str) -> list[str]:
    return ["query", "--api-url", sb.url, "--backoff", "0.01", *args]


def test_cli_refuses_writes_without_the_flag(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(cli(sb, f"UPDATE {POLICIES} SET backup_enabled = 1"))
    assert code != 0
    assert "--allow-writes" in capsys.readouterr().err
    assert posts(sb) == []


def test_cli_dry_run_prints_the_exact_calls_on_stderr_and_sends_nothing(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    off = disabled(sb)
    code = main(cli(sb, "--dry-run", f"UPDATE {POLICIES} SET backup_enabled = 1"))
    err = capsys.readouterr().err
    assert code == 0
    for droplet_id in off:
        assert (
            f'would send: POST /v2/droplets/{droplet_id}/actions {{"type":"enable_backups"}}' in err
        )
    assert f"{len(off)} rows would change" in err
    assert posts(sb) == []


def test_cli_allow_writes_and_wait_send_and_follow_each_action(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    target = disabled(sb)[0]
    sql = f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {target}"
    code = main(cli(sb, "--allow-writes", "--wait", "--wait-timeout", "10", sql))
    err = capsys.readouterr().err
    assert code == 0
    assert f"sent: POST /v2/droplets/{target}/actions" in err
    assert "-> completed, action " in err
    assert "1 rows changed" in err
    assert posts(sb) == [f"/v2/droplets/{target}/actions"]


def test_shell_rollback_sends_nothing_and_commit_sends(sb: Sandbox) -> None:
    off = disabled(sb)
    script = (
        "BEGIN;\n"
        f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {off[0]};\n"
        "ROLLBACK;\n"
        "BEGIN;\n"
        f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = {off[1]};\n"
        "COMMIT;\n"
        "SELECT key, status FROM sqlprovider_changes;\n"
    )
    out, err = io.StringIO(), io.StringIO()
    with connect_to(sb, allow_writes=True) as con:
        shell = ProviderShell(con, stdin=io.StringIO(script), stdout=out, stderr=err)
        shell.cmdloop()
    assert posts(sb) == [f"/v2/droplets/{off[1]}/actions"]
    assert f"droplet_id={off[1]}" in out.getvalue()
    assert f"sent: POST /v2/droplets/{off[1]}/actions" in err.getvalue()


def test_shell_command_takes_the_write_flags(
    sb: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"UPDATE {POLICIES} SET backup_enabled = 0;\n"))
    code = main(["shell", "--api-url", sb.url, "--dry-run", "--no-progress"])
    assert code == 0
    assert "would send: POST" in capsys.readouterr().err
    assert posts(sb) == []


def test_sqlalchemy_url_allows_writes_and_a_rolled_back_transaction_sends_nothing(
    sb: Sandbox,
) -> None:
    off = disabled(sb)
    update = sa.text(f"UPDATE {POLICIES} SET backup_enabled = 1 WHERE droplet_id = :d")
    refused = sa.create_engine(f"sqlprovider://:{sb.token}@/?api_url={sb.url}", connect_args=FAST)
    with pytest.raises(sa.exc.DBAPIError, match="allow_writes=1"), refused.begin() as conn:
        conn.execute(update, {"d": off[0]})
    refused.dispose()
    eng = sa.create_engine(
        f"sqlprovider://:{sb.token}@/?api_url={sb.url}&allow_writes=1", connect_args=FAST
    )
    with eng.connect() as conn:
        conn.execute(update, {"d": off[0]})
        conn.rollback()
    assert posts(sb) == []
    with eng.begin() as conn:
        result = conn.execute(update, {"d": off[1]})
        assert result.rowcount == 1
    eng.dispose()
    assert posts(sb) == [f"/v2/droplets/{off[1]}/actions"]


def test_sqlalchemy_core_update_and_insert_on_reflected_tables(sb: Sandbox) -> None:
    off = disabled(sb)
    eng = sa.create_engine(
        f"sqlprovider://:{sb.token}@/?api_url={sb.url}&allow_writes=1", connect_args=FAST
    )
    policies = sa.Table(POLICIES, sa.MetaData(), autoload_with=eng)
    snapshots = sa.Table("digitalocean.compute.droplet_snapshots", sa.MetaData(), autoload_with=eng)
    with eng.begin() as conn:
        update = sa.update(policies).values(backup_enabled=1).where(policies.c.backup_enabled == 0)
        assert conn.execute(update).rowcount == len(off)
        insert = sa.insert(snapshots).values(droplet_id=off[0], name="from-core")
        assert conn.execute(insert).rowcount == 1
    eng.dispose()
    assert len(posts(sb)) == len(off) + 1
    assert sb.actions.count(off[0], "snapshot") == 1
