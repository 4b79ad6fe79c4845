"""ConnectOptions: one declaration that connect(), the CLI flags and the SQLAlchemy URL share."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import sqlprovider
from sqlprovider import options as settings
from sqlprovider.cli.main import build_parser
from sqlprovider.cli.options import add_connection_arguments, flag_of, options_from_args
from sqlprovider.integrations.sqlalchemy import OPTIONS, connect_options
from sqlprovider.options import ConnectOptions, OptionError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    return parser.parse_args(list(argv))


def test_every_cli_setting_is_a_flag_and_every_url_setting_a_parameter() -> None:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    flags = {o for action in parser._actions for o in action.option_strings}
    for item in settings.fields():
        if item.name != "token":  # the CLI's token flags are its own (file, prompt, warning)
            assert (flag_of(item.name) in flags) == item.metadata["cli"], item.name
        assert (item.name in OPTIONS) == item.metadata["url"], item.name
        assert item.metadata["doc"].endswith("."), item.name


def test_defaults_are_the_same_from_every_entry_point() -> None:
    assert options_from_args(parse()) == ConnectOptions()
    assert ConnectOptions.from_values(connect_options(make_url("sqlprovider://"))) == (
        ConnectOptions()
    )


@pytest.mark.parametrize(
    ("values", "wording"),
    [
        ({"max_concurrency": 0}, "max_concurrency must be at least 1 (got 0)"),
        ({"timeout": 0.0}, "timeout must be more than 0"),
        ({"retries": -1}, "retries must be at least 0"),
        ({"cache_ttl": -5}, "cache_ttl must be at least 0"),
        ({"max_concurrency": "4"}, "max_concurrency must be an integer, not '4'"),
        ({"max_concurrency": True}, "max_concurrency must be an integer"),
        ({"rate_limits": ((0, 60.0),)}, "rate_limits must be (requests >= 1"),
    ],
)
def test_connect_names_the_setting_it_refuses(values: dict[str, object], wording: str) -> None:
    with pytest.raises(OptionError, match=r"^" + wording.replace("(", r"\(").replace(")", r"\)")):
        sqlprovider.connect(**values)  # type: ignore[arg-type]


def test_an_unknown_setting_gets_a_did_you_mean() -> None:
    with pytest.raises(
        OptionError, match="max_concurency is not a connection option; did you mean max_concurrency"
    ):
        sqlprovider.connect(max_concurency=3)


def test_the_cli_names_its_flag() -> None:
    with pytest.raises(OptionError, match=r"^--max-concurrency must be at least 1"):
        options_from_args(parse("--max-concurrency", "0"))
    assert options_from_args(parse("--retries", "2", "--allow-http")).retries == 2


def test_the_url_names_its_parameter() -> None:
    with pytest.raises(ArgumentError, match=r"\?max_concurrency= must be at least 1"):
        connect_options(make_url("sqlprovider://?max_concurrency=0"))
    with pytest.raises(ArgumentError, match="malformed: must be a number, not 'soon'"):
        connect_options(make_url("sqlprovider://?timeout=soon"))


def test_the_token_never_shows_in_a_repr() -> None:
    text = repr(ConnectOptions(token="dop_v1_secret"))
    assert "secret" not in text
    assert "max_concurrency=16" in text


def test_replace_checks_its_changes() -> None:
    base = ConnectOptions(retries=1)
    assert base.replace(timeout=2.0).retries == 1
    with pytest.raises(OptionError, match="timeout"):
        base.replace(timeout=-1.0)
    with pytest.raises(AttributeError, match="frozen"):
        base.retries = 3  # type: ignore[misc]


def test_connect_documents_every_setting() -> None:
    for item in settings.fields():
        assert item.name in (sqlprovider.connect.__doc__ or ""), item.name
        assert item.name in (ConnectOptions.__doc__ or ""), item.name


def test_help_says_token_on_the_command_line_is_visible(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser("query").parse_args(["query", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "visible to other users in `ps`" in out
    assert "--token-file" in out
    assert "--token-prompt" in out


def test_token_file_gives_its_one_line(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("dop_v1_abc\n")
    assert options_from_args(parse("--token-file", str(path))).token == "dop_v1_abc"


def test_token_file_of_two_lines_is_refused_without_showing_them(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("dop_v1_abc\ndop_v1_second\n")
    with pytest.raises(sqlprovider.InterfaceError) as caught:
        options_from_args(parse("--token-file", str(path)))
    assert "2 lines" in str(caught.value)
    assert "dop_v1" not in str(caught.value)


def test_token_file_missing_says_so(tmp_path: Path) -> None:
    with pytest.raises(sqlprovider.InterfaceError, match="cannot read .*: No such file"):
        options_from_args(parse("--token-file", f"{tmp_path}/none"))


def test_token_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("dop_v1_stdin\n"))
    assert options_from_args(parse("--token-file", "-")).token == "dop_v1_stdin"


def test_token_prompt_asks_without_echo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: "dop_v1_typed")
    assert options_from_args(parse("--token-prompt")).token == "dop_v1_typed"


def test_two_token_sources_are_refused() -> None:
    with pytest.raises(sqlprovider.InterfaceError, match="--token and --token-file"):
        options_from_args(parse("--token", "a", "--token-file", "-"))


def test_a_bad_api_url_is_named_as_each_caller_gave_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlprovider.cli.main import main

    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "t" * 20)
    monkeypatch.delenv("DIGITALOCEAN_API_URL", raising=False)
    assert main(["query", "--api-url", "ftp://x", "SELECT 1"]) == 1
    assert capsys.readouterr().err.startswith("error: --api-url must look like https://host")
    with pytest.raises(OptionError, match=r"^api_url is plain http to example\.com"):
        sqlprovider.connect(api_url="http://example.com")
    monkeypatch.setenv("DIGITALOCEAN_API_URL", "https://example.com/v9")
    with pytest.raises(sqlprovider.InterfaceError, match=r"^\$DIGITALOCEAN_API_URL must be"):
        sqlprovider.connect()
    config = {"accounts": {"prod": {"token": "t" * 20, "api_url": "https://h/v3"}}}
    with pytest.raises(sqlprovider.InterfaceError, match=r"^the api_url of account 'prod' must be"):
        sqlprovider.connect(config=config, accounts="*")
