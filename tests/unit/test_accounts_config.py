"""The config file that names accounts, and where each account's token comes from."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sqlprovider.errors import InterfaceError
from sqlprovider.http.accounts import (
    CONFIG_ENV,
    AccountConfig,
    default_config_path,
    load_config,
)

PROVIDER_ENV = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")


def write(tmp_path: Path, text: str, mode: int = 0o644) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_without_a_file_there_is_one_default_account_from_the_usual_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "env-token")
    config = load_config()
    [account] = config.select(None)
    assert account.name == "default"
    token = account.resolve_token(PROVIDER_ENV)
    assert token is not None
    assert token.reveal() == "env-token"


def test_the_user_config_folder_is_read_when_no_variable_names_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    if sys.platform not in ("win32", "darwin"):
        assert default_config_path() == tmp_path / "sqlprovider" / "config.toml"
    folder = default_config_path().parent
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text('[accounts.prod]\ntoken_env = "DO_PROD"\n')
    assert list(load_config().accounts) == ["prod"]


def test_token_env_and_default_accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        'default_accounts = ["staging"]\n'
        '[accounts.prod]\ntoken_env = "DO_PROD"\napi_url = "https://api.example.com"\n'
        '[accounts.staging]\ntoken_env = "DO_STAGING"\n',
    )
    monkeypatch.setenv(CONFIG_ENV, str(path))
    monkeypatch.setenv("DO_PROD", "prod-secret")
    config = load_config()
    assert [a.name for a in config.select(None)] == ["staging"]
    assert [a.name for a in config.select("*")] == ["prod", "staging"]
    assert [a.name for a in config.select("staging, prod")] == ["staging", "prod"]
    prod = config.accounts["prod"]
    assert prod.api_url == "https://api.example.com"
    assert prod.resolve_token(PROVIDER_ENV).reveal() == "prod-secret"  # type: ignore[union-attr]
    with pytest.raises(InterfaceError, match=r"account 'staging': \$DO_STAGING .* is not set"):
        config.accounts["staging"].resolve_token(PROVIDER_ENV)


def test_an_unknown_account_lists_the_configured_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[accounts.prod]\ntoken_env = "X"\n'))
    with pytest.raises(InterfaceError, match=r"no account named 'prdo'.*: prod"):
        config.select(["prdo"])


def test_token_command_runs_without_a_shell_and_its_output_is_never_shown(
    tmp_path: Path,
) -> None:
    script = tmp_path / "print token.py"
    script.write_text("print('cmd-secret-123')\n")
    ok = AccountConfig("ops", token_command=(sys.executable, str(script)))
    assert ok.resolve_token(()).reveal() == "cmd-secret-123"  # type: ignore[union-attr]
    failing = tmp_path / "fail.py"
    failing.write_text("import sys; print('leaked-secret'); sys.exit(3)\n")
    bad = AccountConfig("ci", token_command=(sys.executable, str(failing)))
    with pytest.raises(InterfaceError) as caught:
        bad.resolve_token(())
    assert "exited with status 3" in str(caught.value)
    assert "'ci'" in str(caught.value)
    assert "leaked-secret" not in str(caught.value)


def test_token_command_is_split_like_a_command_line_not_run_by_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    path = write(
        tmp_path, f'[accounts.a]\ntoken_command = "echo tok; touch {marker}"\n', mode=0o600
    )
    account = load_config(path).accounts["a"]
    assert account.token_command == ("echo", "tok;", "touch", str(marker))
    # `echo` printed the rest as text ("tok; touch ..."), which no token can be: it holds spaces.
    with pytest.raises(InterfaceError, match="holds a space"):
        account.resolve_token(())
    assert not marker.exists()


def test_a_plain_token_in_a_file_others_can_read_is_refused(tmp_path: Path) -> None:
    text = '[accounts.prod]\ntoken = "dop_v1_plain"\n'
    if sys.platform != "win32":
        with pytest.raises(InterfaceError, match="readable by others.*chmod 600") as caught:
            load_config(write(tmp_path, text, mode=0o644))
        assert "dop_v1_plain" not in str(caught.value)
    config = load_config(write(tmp_path, text, mode=0o600))
    assert config.accounts["prod"].resolve_token(()).reveal() == "dop_v1_plain"  # type: ignore[union-attr]
    assert "dop_v1_plain" not in repr(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[accounts.a]\ntoken_env = "A"\ntoken_command = "x"\n', "exactly one of"),
        ("[accounts.a]\n", "exactly one of"),
        ('[accounts.a]\ntoken_env = "A"\nregion = "x"\n', "unknown key"),
        ('[accounts."bad name"]\ntoken_env = "A"\n', "must be letters"),
        ('default_accounts = ["b"]\n[accounts.a]\ntoken_env = "A"\n', "no account named 'b'"),
        ("[accounts.a\n", "not valid TOML"),
        ('acounts = "x"\n', "unknown key"),
    ],
)
def test_an_invalid_file_is_refused_with_what_is_wrong(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InterfaceError, match=message):
        load_config(write(tmp_path, text, mode=0o600))


def test_a_config_variable_naming_a_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "nope.toml"))
    with pytest.raises(InterfaceError, match="no config file"):
        load_config()
