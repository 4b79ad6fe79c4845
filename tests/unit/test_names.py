"""Three-part names are quoted at the token level; everything else stays byte for byte."""

from __future__ import annotations

import pytest

from sqlprovider.sql.names import NameRewriter

NAMES = [
    "digitalocean.compute.droplets",
    "digitalocean.compute.droplet_backups",
    "digitalocean.databases.backups",
]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT * FROM digitalocean.compute.droplets",
            'SELECT * FROM "digitalocean.compute.droplets"',
        ),
        (
            "select d.id from DigitalOcean.Compute.Droplets d join digitalocean.compute.droplet_backups b on b.droplet_id = d.id",
            'select d.id from "digitalocean.compute.droplets" d join "digitalocean.compute.droplet_backups" b on b.droplet_id = d.id',
        ),
        (
            "SELECT * FROM compute.droplets WHERE id = ?2",
            'SELECT * FROM "digitalocean.compute.droplets" WHERE id = ?2',
        ),
        ("SELECT * FROM databases.backups", 'SELECT * FROM "digitalocean.databases.backups"'),
        (
            'SELECT * FROM "digitalocean.compute.droplets"',
            'SELECT * FROM "digitalocean.compute.droplets"',
        ),
        (
            "SELECT 'digitalocean.compute.droplets' -- digitalocean.compute.droplets\nFROM digitalocean.compute.droplets",
            "SELECT 'digitalocean.compute.droplets' -- digitalocean.compute.droplets\nFROM \"digitalocean.compute.droplets\"",
        ),
        ("SELECT x.compute.droplets FROM t", "SELECT x.compute.droplets FROM t"),
        ("SELECT 1", "SELECT 1"),
        (
            "EXPLAIN QUERY PLAN SELECT * FROM digitalocean.compute.droplets",
            'EXPLAIN QUERY PLAN SELECT * FROM "digitalocean.compute.droplets"',
        ),
    ],
)
def test_rewrite(sql: str, expected: str) -> None:
    assert NameRewriter(NAMES).rewrite(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # Each part may be quoted in any of SQLite's three ways, with spaces around the dots.
        (
            'SELECT * FROM "digitalocean"."compute".`droplets`',
            'SELECT * FROM "digitalocean.compute.droplets"',
        ),
        (
            "SELECT * FROM [digitalocean] . compute . droplets",
            'SELECT * FROM "digitalocean.compute.droplets"',
        ),
        # Names inside strings, block comments and quoted identifiers are not table names.
        (
            "SELECT 'it''s digitalocean.compute.droplets' /* digitalocean.compute.droplets */ FROM t",
            "SELECT 'it''s digitalocean.compute.droplets' /* digitalocean.compute.droplets */ FROM t",
        ),
        (
            'SELECT "digitalocean.compute.droplets"".x" FROM t',
            'SELECT "digitalocean.compute.droplets"".x" FROM t',
        ),
        # A column of a table (four parts) is left alone; so is a number before a dot.
        (
            "SELECT digitalocean.compute.droplets.id FROM t",
            "SELECT digitalocean.compute.droplets.id FROM t",
        ),
        ("SELECT 1.5, compute.droplets.x FROM t", "SELECT 1.5, compute.droplets.x FROM t"),
        # An unclosed string: names before it are quoted, the rest is left for SQLite to report.
        (
            "SELECT * FROM digitalocean.compute.droplets WHERE name = 'web.compute.droplets",
            'SELECT * FROM "digitalocean.compute.droplets" WHERE name = \'web.compute.droplets',
        ),
        (
            "SELECT * FROM compute.droplets d JOIN databases.backups b ON 1 -- compute.droplets",
            'SELECT * FROM "digitalocean.compute.droplets" d JOIN "digitalocean.databases.backups" b ON 1 -- compute.droplets',
        ),
    ],
)
def test_rewrite_follows_sqlite_lexical_rules(sql: str, expected: str) -> None:
    assert NameRewriter(NAMES).rewrite(sql) == expected


def test_rewrite_does_not_import_a_sql_parser() -> None:
    """Quoting names is on the path of every statement; sqlglot costs ~0.25 s to import."""
    import subprocess
    import sys

    code = (
        "import sys; from sqlprovider.sql.names import NameRewriter;"
        f"NameRewriter({NAMES!r}).rewrite('SELECT * FROM digitalocean.compute.droplets');"
        "print(any(m.startswith('sqlglot') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
