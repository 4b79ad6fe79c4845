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
