"""`sqlprovider query` as a user runs it: several statements, stdin, parameters, files, messages."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from sqlprovider.cli.main import main
from sqlprovider.cli.progress import ProgressMeter
from sqlprovider.cli.statements import Parameters, placeholders, split_statements
from sqlprovider.errors import InterfaceError
from sqlprovider.sandbox import Sandbox
from tests.conftest import connect_to

SANDBOX = ["--sandbox", "--sandbox-droplets", "4", "--sandbox-clusters", "2"]


def query(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["query", *SANDBOX, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_each_statement_prints_its_own_result(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = query(
        capsys,
        "-f",
        "csv",
        "SELECT 1 AS a, 2 AS b; CREATE TEMP TABLE t(x); SELECT 'x;y' AS c; "
        "SELECT count(*) AS n FROM digitalocean.compute.droplets",
    )
    assert (code, err) == (0, "")
    assert out == "a,b\n1,2\n\nc\nx;y\n\nn\n4\n"


def test_each_result_is_a_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = query(capsys, "-f", "json", "SELECT 1 AS a; SELECT 2 AS b, 3 AS c")
    decoder = json.JSONDecoder()
    first, end = decoder.raw_decode(out)
    second, _ = decoder.raw_decode(out[end:].lstrip())
    assert (code, first, second) == (0, [{"a": 1}], [{"b": 2, "c": 3}])


def test_a_failing_statement_stops_after_the_results_before_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = query(capsys, "-f", "csv", "SELECT 1 AS a; SELECT * FROM nope; SELECT 3")
    assert code == 1
    assert out == "a\n1\n"
    assert "no such table: nope" in err


def test_sql_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT 40 + 2 AS answer;\n"))
    code, out, _ = query(capsys, "-f", "csv", "-")
    assert (code, out) == (0, "answer\n42\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT 7 AS n"))
    code, out, _ = query(capsys, "-f", "csv")
    assert (code, out) == (0, "n\n7\n")


def test_sql_and_token_cannot_both_come_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("tok\n"))
    code = main(["query", "--token-file", "-", "-"])
    assert code == 1
    assert "stdin cannot hold both the SQL and the token" in capsys.readouterr().err


def test_positional_and_named_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT ? AS a, typeof(?) AS t; SELECT ? AS b"
    code, out, _ = query(capsys, "-f", "csv", "-p", "5", "--param", "'007'", "-p", "x", sql)
    assert (code, out) == (0, "a,t\n5,text\n\nb\nx\n")
    code, out, _ = query(capsys, "-f", "csv", "-p", "id=12", "SELECT :id AS i; SELECT :id * 2 AS j")
    assert (code, out) == (0, "i\n12\n\nj\n24\n")


def test_a_parameter_binds_a_key_like_a_literal(capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(seed=3, droplets=3) as sb:
        with connect_to(sb) as con:
            (droplet,) = con.execute(
                "SELECT id FROM digitalocean.compute.droplets LIMIT 1"
            ).fetchone()
        code = main(
            [
                "query",
                "--api-url",
                sb.url,
                "--token",
                sb.token,
                "-f",
                "csv",
                "-p",
                str(droplet),
                "SELECT id FROM digitalocean.compute.droplets WHERE id = ?",
            ]
        )
    assert code == 0
    assert capsys.readouterr().out == f"id\n{droplet}\n"


@pytest.mark.parametrize(
    ("given", "wording"),
    [
        (["-p", "1", "-p", "2", "SELECT ?"], "2 value(s) given but the SQL has only 1"),
        (["SELECT ?, ?", "-p", "1"], "more ? placeholders than the 1 value(s) given"),
        (["-p", "a=1", "SELECT :b"], "no value for :b"),
        (["-p", "1", "-p", "a=1", "SELECT ?"], "every value by position"),
    ],
)
def test_parameter_mistakes_are_named_before_anything_runs(
    capsys: pytest.CaptureFixture[str], given: list[str], wording: str
) -> None:
    code, out, err = query(capsys, *given)
    assert (code, out) == (1, "")
    assert "--param" in err
    assert wording in err


def test_output_into_a_missing_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = query(capsys, "-o", str(tmp_path / "missing" / "out.csv"), "SELECT 1")
    assert code == 1
    assert (
        err == f"error: --output: folder {tmp_path / 'missing'} does not exist; create it first\n"
    )
    code, _, err = query(capsys, "-o", str(tmp_path), "SELECT 1")
    assert "is a folder" in err


def test_output_file_holds_every_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    code, out, _ = query(capsys, "-f", "csv", "-o", str(target), "SELECT 1 AS a; SELECT 2 AS b")
    assert (code, out) == (0, "")
    assert target.read_text() == "a\n1\n\nb\n2\n"


def test_verbose_logs_each_call_without_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(seed=3, droplets=3) as sb:
        code = main(
            [
                "query",
                "--api-url",
                sb.url,
                "--token",
                sb.token,
                "--verbose",
                "SELECT count(*) FROM digitalocean.compute.droplets",
            ]
        )
        token = sb.token
    err = capsys.readouterr().err
    assert code == 0
    calls = [line for line in err.splitlines() if line.startswith("api: ")]
    assert calls, err
    assert "GET /v2/droplets" in calls[0]
    assert " -> 200 in " in calls[0]
    assert calls[0].endswith(" ms")
    assert token not in err
    assert not logging.getLogger("sqlprovider.http").handlers  # removed afterwards


def test_no_progress_line_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = query(capsys, "SELECT count(*) FROM digitalocean.compute.droplets")
    assert code == 0
    assert "…" not in err


def test_progress_line_counts_requests_pages_rows_and_waiting() -> None:
    class Stats:
        requests, pages, throttle_seconds = 3, 2, 4.2

    class Session:
        class statement:  # noqa: N801 - mimics the session attribute
            stats = Stats

    meter = ProgressMeter(Session, io.StringIO(), rows=lambda: 250)
    assert meter.line() == "… 3 API requests, 2 pages, 250 rows, waited 4 s for the API rate limit"


def test_quiet_and_verbose_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["query", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--quiet" in out
    assert "--verbose" in out
    assert "--param" in out
    assert "'-' or nothing reads the SQL from stdin" in out


@pytest.mark.parametrize(
    ("script", "statements"),
    [
        ("SELECT 1; SELECT 2", ["SELECT 1;", "SELECT 2"]),
        ("SELECT 'a;b'; SELECT \"c;d\" FROM t;", ["SELECT 'a;b';", 'SELECT "c;d" FROM t;']),
        ("SELECT 1; -- done;\n", ["SELECT 1;"]),
        ("/* x; */ SELECT 1;;", ["/* x; */ SELECT 1;"]),
        (
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END; SELECT 3",
            ["CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;", "SELECT 3"],
        ),
        ("  ;  ", []),
    ],
)
def test_split_statements(script: str, statements: list[str]) -> None:
    assert split_statements(script) == statements


def test_placeholders_are_numbered_as_sqlite_numbers_them() -> None:
    assert placeholders("SELECT ?, ?3, :id, '?', :id -- ?") == (4, ["id"])
    assert Parameters.parse(["1", "2.5", "'3'", "x"]).positional == (1, 2.5, "3", "x")
    with pytest.raises(InterfaceError):
        Parameters.parse(["a=1"]).bind(["SELECT ?"])
