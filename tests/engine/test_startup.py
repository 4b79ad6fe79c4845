"""What a fresh process loads before its first API statement, and that the statement then works.

Every CLI call pays for what `connect()` imports, so the statement machinery (paging, planning,
writes, the SQL parser) waits for the first statement that reads an API table. The check is on
`sys.modules` in a child interpreter, never on a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sqlprovider
from sqlprovider.sandbox import Sandbox
from tests.conftest import FAST

#: Modules only a statement that reads (or writes) an API table needs.
DEFERRED = (
    "sqlprovider.engine.fetch",
    "sqlprovider.engine.pages",
    "sqlprovider.engine.plan",
    "sqlprovider.engine.batch",
    "sqlprovider.engine.writer",
    "sqlprovider.engine.apply",
    "sqlprovider.engine.joins",
    "requests",
    "sqlglot",
    "yaml",
    "hashlib",  # OpenSSL's libcrypto: spec.digest uses the interpreter's own SHA-256
    "decimal",
    "dataclasses",  # its code generation imports inspect, ast, dis and tokenize
    "logging",  # with traceback behind it: only a line to log needs it
)

_CHILD = """
import json, os, sys
import sqlprovider
con = sqlprovider.connect(api_url=sys.argv[1], **json.loads(sys.argv[2]))
assert con.execute("SELECT 1").fetchall() == [(1,)]
loaded = sorted(m for m in json.loads(sys.argv[3]) if m in sys.modules)
count = con.execute("SELECT count(*) FROM digitalocean.compute.droplets").fetchone()[0]
print(json.dumps({"loaded": loaded, "count": count}))
"""


def test_select_1_loads_no_statement_machinery_and_a_first_read_still_works(
    sandbox: Sandbox, con: sqlprovider.Connection
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGITALOCEAN_")}
    env["DIGITALOCEAN_TOKEN"] = sandbox.token  # the environment, not argv: argv is visible
    settings = json.dumps({**FAST, "rate_limits": [list(w) for w in FAST["rate_limits"]]})
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, sandbox.url, settings, json.dumps(DEFERRED)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    child = json.loads(out.stdout)
    assert child["loaded"] == []
    expected = con.execute("SELECT count(*) FROM digitalocean.compute.droplets").fetchone()[0]
    assert child["count"] == expected > 0
