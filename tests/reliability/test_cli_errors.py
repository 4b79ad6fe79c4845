"""Errors as the command line shows them: complete causes, CLI flags, short budgets."""

from __future__ import annotations

import socket

import pytest
import requests

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.http.neterrors import REFUSED_ATTEMPTS, describe_transport_error, is_refused
from sqlprovider.sandbox import Sandbox


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_says_so_in_full_after_a_short_budget() -> None:
    port = closed_port()
    with sqlprovider.connect(
        token="t0k", api_url=f"http://127.0.0.1:{port}", retries=5, backoff=0.01
    ) as con:
        with pytest.raises(sqlprovider.ServiceError) as caught:
            con.execute(
                "SELECT count(*) FROM digitalocean.compute.droplet_supported_backup_policies"
            ).fetchall()
        stats = con.session.statement.stats
    text = str(caught.value)
    assert f"connection refused by 127.0.0.1:{port} (nothing is listening there)" in text
    assert f"after {REFUSED_ATTEMPTS} attempts" in text  # not the 6 that retries=5 allows
    assert stats.requests == REFUSED_ATTEMPTS
    assert "Max retries exceeded" not in text
    assert "object at 0x" not in text


def test_retries_zero_means_one_attempt(capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_port()
    code = main(
        [
            "query",
            "--api-url",
            f"http://127.0.0.1:{port}",
            "--token",
            "t0k",
            "--retries",
            "0",
            "SELECT count(*) FROM digitalocean.compute.droplets",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "after 1 attempt (connection refused" in err
    assert "--api-url" in err


def test_transport_errors_are_described_from_their_cause() -> None:
    port = closed_port()
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    assert is_refused(refused.value)
    assert describe_transport_error(refused.value, f"http://127.0.0.1:{port}/") == (
        f"connection refused by 127.0.0.1:{port} (nothing is listening there)"
    )
    unresolved = requests.ConnectionError(socket.gaierror(-2, "Name or service not known"))
    assert describe_transport_error(unresolved, "https://nowhere.invalid/v2") == (
        "the host name nowhere.invalid could not be resolved (Name or service not known)"
    )
    assert not is_refused(unresolved)


def test_a_missing_token_names_the_cli_ways_to_give_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DIGITALOCEAN_TOKEN", raising=False)
    monkeypatch.delenv("DIGITALOCEAN_ACCESS_TOKEN", raising=False)
    with Sandbox(seed=2, droplets=2) as sb:
        code = main(["query", "--api-url", sb.url, "SELECT count(*) FROM droplets"])
    err = capsys.readouterr().err
    assert code == 1
    assert "--token-file PATH or --token-prompt" in err
    assert "DIGITALOCEAN_TOKEN" in err
    assert "visible to other users in ps" in err
    assert "connect(token" not in err


def test_a_refused_token_names_the_cli_ways_too(capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(seed=2, droplets=2) as sb:
        code = main(
            ["query", "--api-url", sb.url, "--token", "wrong", "SELECT count(*) FROM droplets"]
        )
    err = capsys.readouterr().err
    assert code == 1
    assert "the API refused the token for GET /v2/droplets (401" in err
    assert "--token-file PATH" in err
    assert "connect(token" not in err
    assert "wrong" not in err


def test_an_option_error_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "--sandbox", "--max-concurrency", "0", "SELECT 1"])
    assert code == 1
    assert capsys.readouterr().err == "error: --max-concurrency must be at least 1 (got 0)\n"
