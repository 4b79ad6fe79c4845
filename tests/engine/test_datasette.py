"""A synced file in Datasette, seen through a real headless Chromium.

`sqlprovider sync` writes the file and its metadata; Datasette (from the test extra) serves them
on loopback; Chromium (Debian's `chromium` package, installed by `.ci/run`) renders the pages,
and the test reads the DOM it produced: the tables are listed, the spec's descriptions show,
and a canned query over the history runs. Skipped, saying why, where either is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlprovider.cli.main import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Flags that work in a container without a display, a GPU or a network beyond loopback.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium on this machine (.ci/run installs Debian's chromium package; "
        "apt-get install chromium)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("datasette") is None,
        reason="datasette is not installed (pip install -e '.[test]')",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _datasette(database: Path, metadata: Path) -> Iterator[str]:
    """Serve `database` with `metadata` on loopback; yield the base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "datasette", "serve", str(database), "-m", str(metadata)]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/-/versions.json", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    error = server.stderr.read().decode() if server.stderr else ""
                    pytest.fail(f"datasette did not start: {error[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _chromium(profile: Path, *arguments: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout.decode()


def test_datasette_shows_the_synced_tables_their_descriptions_and_a_canned_query(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "estate.db"
    assert main(["sync", "--sandbox", "--into", str(database)]) == 0
    metadata = tmp_path / "estate.metadata.json"
    assert f"datasette {database} -m {metadata}" in capsys.readouterr().err
    with _datasette(database, metadata) as url:
        index = _chromium(tmp_path / "p1", "--dump-dom", f"{url}/estate")
        table = _chromium(
            tmp_path / "p2", "--dump-dom", f"{url}/estate/digitalocean_compute_droplets"
        )
        canned = _chromium(tmp_path / "p3", "--dump-dom", f"{url}/estate/backups_enabled_per_day")
        shot = tmp_path / "site.png"
        _chromium(
            tmp_path / "p4",
            "--hide-scrollbars",
            "--window-size=1280,900",
            f"--screenshot={shot}",
            f"{url}/estate",
        )
    for name in (
        "digitalocean_compute_droplets",
        "digitalocean_compute_droplet_backups",
        "digitalocean_databases_backups_history",
        "sqlprovider_syncs",
        "Droplets with backups enabled, per day",
        "Droplets whose newest backup or snapshot is older than N days",  # a spec recipe
    ):
        assert name in index
    assert "From the API table digitalocean.compute.droplets" in table
    assert "Unique Droplet id; the key that backups and policies join on." in table
    assert "Droplets with backups enabled, per day" in canned
    assert 'class="col-droplets_with_backups"' in canned
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
