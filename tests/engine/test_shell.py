"""`sqlprovider shell`, driven through its stdin/stdout/stderr against the sandbox."""

from __future__ import annotations

import _thread
import io
import re
import threading
import time
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.cli.shell import (
    ProgressMeter,
    ProviderShell,
    forget_secret_entries,
    scrub_history_file,
)
from sqlprovider.sandbox import Sandbox
from sqlprovider.spec import load_providers
from tests.conftest import connect_to

JOIN = (
    "SELECT count(*) AS n FROM digitalocean.compute.droplets d "
    "JOIN digitalocean.compute.droplet_backups b ON b.droplet_id = d.id;"
)


class _Terminal(io.StringIO):
    """A stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def run(
    connection: sqlprovider.Connection, script: str, **options: object
) -> tuple[str, str, ProviderShell]:
    out, err = io.StringIO(), io.StringIO()
    shell = ProviderShell(connection, stdin=io.StringIO(script), stdout=out, stderr=err, **options)  # type: ignore[arg-type]
    shell.cmdloop()
    return out.getvalue(), err.getvalue(), shell


def test_three_part_names_run_and_errors_have_no_traceback(con: sqlprovider.Connection) -> None:
    out, err, _ = run(
        con,
        ".mode list\n.headers on\n"
        "SELECT count(*) AS n FROM digitalocean.compute.droplet_supported_backup_policies;\n"
        "SELECT * FROM digitalocean.compute.droplet_backups;\n"
        "SELECT * FROM no_such_table;\n"
        "SELECT 'still here' AS s;\n",
    )
    assert out.splitlines()[:2] == ["n", "2"]
    assert "still here" in out
    assert "needs droplet_id" in err
    assert "no such table: no_such_table" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("mode", "marker"),
    [
        ("table", "+-"),
        ("box", "│"),
        ("csv", "id,name"),
        ("json", '"name":'),
        ("line", "name = "),
        ("list", "id|name"),
        ("markdown", "|---|---|"),
    ],
)
def test_output_modes(con: sqlprovider.Connection, mode: str, marker: str) -> None:
    first = con.execute("SELECT name FROM digitalocean.compute.droplets ORDER BY id").fetchone()
    assert first is not None
    out, err, _ = run(
        con,
        f".mode {mode}\n.headers on\n"
        "SELECT id, name FROM digitalocean.compute.droplets ORDER BY id LIMIT 2;\n",
    )
    assert err == ""
    assert marker in out
    assert first[0] in out


def test_markdown_escapes_pipes_and_shows_nulls(con: sqlprovider.Connection) -> None:
    out, _, _ = run(con, ".mode markdown\n.nullvalue NULL\nSELECT 'a|b' AS x, NULL AS y;\n")
    assert out.splitlines() == ["| x | y |", "|---|---|", "| a\\|b | NULL |"]


def test_tables_lists_api_tables_and_own_tables(con: sqlprovider.Connection) -> None:
    out, err, _ = run(con, "CREATE TEMP TABLE mine(x);\n.tables\n.tables %backups\n")
    lines = out.splitlines()
    assert err == ""
    assert "mine" in lines
    assert "digitalocean.compute.droplets" in lines
    assert "digitalocean.databases.clusters" in lines
    assert lines.count("digitalocean.compute.droplet_backups") == 2
    assert "digitalocean.databases.backups" in lines[8:]


def test_resources_describe_and_stats(con: sqlprovider.Connection) -> None:
    out, err, _ = run(
        con,
        ".mode list\n.resources %backups\n.describe droplet_backups\n"
        "SELECT count(*) FROM digitalocean.compute.droplets;\n.stats\n",
    )
    assert err == ""
    assert "name|required_keys|description" in out
    assert "digitalocean.compute.droplet_backups|droplet_id|Backup images" in out
    assert "digitalocean.compute.droplets|" not in out  # the pattern filters
    assert "name|type|description|hidden|is_key|required" in out
    assert (
        "droplet_id|INTEGER|The Droplet the backup belongs to (echoed from the query).|0|1|1" in out
    )
    assert "raw|JSON|" in out
    lines = out.splitlines()
    start = len(lines) - lines[::-1].index("name|value")  # the .stats table, whatever its size
    stats = dict(line.split("|") for line in lines[start:])
    assert int(stats["warnings"]) == 0
    assert int(stats["requests"]) == 2  # one list call per Droplet type
    assert int(stats["pages"]) == 2


def test_stats_follow_each_statement(con: sqlprovider.Connection) -> None:
    out, _, _ = run(con, f".mode list\n{JOIN}\n.stats\nSELECT 1;\n.stats\n")
    requests = [int(x) for x in re.findall(r"^requests\|(\d+)$", out, re.M)]
    assert requests[0] > 2
    assert requests[1] == 0


def test_describe_of_an_unknown_table_names_close_matches(con: sqlprovider.Connection) -> None:
    _, err, _ = run(con, ".describe digitalocean.compute.droplet_backup\n.describe\n")
    assert "unknown table 'digitalocean.compute.droplet_backup'" in err
    assert "did you mean digitalocean.compute.droplet_backups" in err
    assert "usage: .describe TABLE" in err
    assert "Traceback" not in err


def test_help_lists_the_new_commands(con: sqlprovider.Connection) -> None:
    _, err, _ = run(con, ".help\n.help mode\n")
    for command in (".resources", ".describe TABLE", ".stats", ".tables"):
        assert command in err
    assert "markdown: Markdown" in err


def test_open_is_refused_and_the_connection_stays(con: sqlprovider.Connection) -> None:
    out, err, _ = run(con, ".open other.db\n.close\nSELECT count(*) FROM sqlprovider_resources;\n")
    assert "keeps its API connection" in err
    assert out.strip() == str(sum(1 for p in load_providers() for _ in p.resources()))


def test_progress_counts_requests_while_a_statement_runs(
    make_sandbox: type[Sandbox],
) -> None:
    sb = make_sandbox(latency_ms=15, droplets=30)
    with connect_to(sb, max_concurrency=2) as connection:
        out, err, _ = run(connection, JOIN + "\n", progress=True, progress_interval=0.02)
    counts = [int(n) for n in re.findall(r"… (\d+) API requests?", err)]
    assert len(counts) >= 3
    assert counts == sorted(counts)
    assert err.endswith("\n")
    assert out.strip().isdigit()


def test_progress_is_off_unless_stderr_is_a_terminal(con: sqlprovider.Connection) -> None:
    _, _, plain = run(con, "")
    assert plain.progress is False
    shell = ProviderShell(con, stdin=io.StringIO(""), stdout=io.StringIO(), stderr=_Terminal())
    assert shell.progress is True


def test_progress_meter_on_a_terminal_clears_its_line() -> None:
    class Session:
        class statement:  # noqa: N801 - mimics the session attribute
            class stats:  # noqa: N801
                requests, pages, throttle_seconds = 7, 1, 0.0

    stream = _Terminal()
    with ProgressMeter(Session, stream, interval=0.005):
        time.sleep(0.05)
    assert stream.getvalue() == "\r… 7 API requests, 1 page\r\x1b[K"


def test_ctrl_c_stops_the_statement_and_its_requests_but_not_the_shell(
    make_sandbox: type[Sandbox],
) -> None:
    sb = make_sandbox(latency_ms=60, droplets=80)
    with connect_to(sb, max_concurrency=2) as connection:
        interrupted = []

        def press_ctrl_c_after_a_few_requests() -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                statement = connection.session.statement
                if statement.stats.requests >= 4:
                    interrupted.append(statement)
                    _thread.interrupt_main()
                    return
                time.sleep(0.005)

        out, err = io.StringIO(), io.StringIO()
        shell = ProviderShell(
            connection, stdin=io.StringIO(JOIN + "\nSELECT 42;\n"), stdout=out, stderr=err
        )
        shell.interactive = True  # as at a terminal: Ctrl-C returns to the prompt
        watcher = threading.Thread(target=press_ctrl_c_after_a_few_requests)
        watcher.start()
        started = time.monotonic()
        shell.cmdloop()
        watcher.join()
        elapsed = time.monotonic() - started
    assert interrupted, "the statement never got going"
    assert interrupted[0].cancel.is_set()
    assert "^C" in err.getvalue()
    assert "cancelled: the statement stopped; its pending API requests were dropped" in (
        err.getvalue()
    )
    assert "42" in out.getvalue().splitlines()[-2]
    # The whole join needs 80 backups calls (2.4 s at best); the request count, not a stopwatch
    # on a shared machine, shows it stopped early. The time bound only catches a hang.
    assert len(sb.requests) < 40
    assert elapsed < 10


def test_history_keeps_no_line_with_the_token(con: sqlprovider.Connection) -> None:
    readline = pytest.importorskip("readline")
    readline.clear_history()
    readline.add_history("SELECT 1;")
    readline.add_history("SELECT 'secret-token-123';")
    shell = ProviderShell(
        con,
        stdin=io.StringIO("SELECT 'secret-token-123' AS t;\n"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        secrets=["secret-token-123"],
    )
    shell._using_readline = True  # as apsw sets it when reading a terminal
    assert shell.get_line() == "SELECT 'secret-token-123' AS t;"
    entries = [
        readline.get_history_item(i) for i in range(1, readline.get_current_history_length() + 1)
    ]
    assert entries == ["SELECT 1;"]
    readline.clear_history()


def test_forget_secret_entries_and_scrub_history_file(tmp_path: Path) -> None:
    readline = pytest.importorskip("readline")
    readline.clear_history()
    for line in ("a", "tok here", "b", "again tok"):
        readline.add_history(line)
    assert forget_secret_entries(readline, ["tok"]) == 2
    assert readline.get_current_history_length() == 2
    readline.clear_history()
    history = tmp_path / "history"
    history.write_text("SELECT 1;\nSELECT 'tok';\nSELECT 2;\n", encoding="utf-8")
    scrub_history_file(history, ["tok"])
    assert history.read_text(encoding="utf-8") == "SELECT 1;\nSELECT 2;\n"
    assert history.stat().st_mode & 0o777 == 0o600


def test_the_shell_uses_the_connection_token_as_its_secret(sandbox: Sandbox) -> None:
    with connect_to(sandbox) as connection:
        shell = ProviderShell(connection, stdin=io.StringIO(""), stdout=io.StringIO())
        assert shell.secrets == (sandbox.token,)
        assert shell.history_file == "~/.sqlprovider_history"


def test_cli_shell_reads_sql_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO(".mode csv\nSHOW RESOURCES IN digitalocean.databases;\nDESCRIBE nope;\n"),
    )
    code = main(["shell", "--sandbox", "--sandbox-droplets", "3", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1  # piped SQL that hit an error, as sqlite3 does
    assert "backups,digitalocean.databases.backups," in captured.out
    assert "clusters,digitalocean.databases.clusters," in captured.out
    assert "DESCRIBE: unknown table 'nope'" in captured.err


def test_piped_sql_without_errors_exits_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(".mode csv\nSELECT 1 AS one;\n"))
    code = main(["shell", "--sandbox", "--sandbox-droplets", "3", "--no-progress"])
    assert code == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "1"


def test_errors_are_counted_and_the_script_goes_on(con: sqlprovider.Connection) -> None:
    out, err, shell = run(con, ".mode list\nSELECT * FROM nope;\nSELECT 'after' AS a;\n.nosuch\n")
    assert shell.failures == 2
    assert "after" in out
