"""Bound parameters plan like literals: the same SQL makes the same calls (issue 9, item 8)."""

from __future__ import annotations

from typing import Any

import pytest

import sqlprovider
from sqlprovider.sandbox import Sandbox

D = "digitalocean.compute.droplets"
B = "digitalocean.compute.droplet_backups"
P = "digitalocean.compute.droplet_backup_policies"


def _cases(sandbox: Sandbox) -> list[tuple[str, tuple[Any, ...]]]:
    droplet = sandbox.account.droplet_ids()[3]
    name = sandbox.account.droplet(droplet).name  # type: ignore[union-attr]
    join = f"SELECT count(*), sum(b.size_gigabytes) FROM {D} d JOIN {B} b ON b.droplet_id = d.id"
    return [
        (f"{join} WHERE d.name LIKE ?", ("web%",)),
        (f"{join} WHERE d.name = ?", (name,)),
        (f"{join} WHERE d.id IN (?, ?)", (droplet, 1)),
        (f"{join} WHERE b.droplet_id = ?", (droplet,)),
        (
            f"{join} WHERE d.name LIKE :pattern AND d.status = :status",
            {"pattern": "%", "status": "off"},
        ),
        (
            f"SELECT count(*) FROM {D} d LEFT JOIN {P} p ON p.droplet_id = d.id WHERE d.id = ?",
            (droplet,),
        ),
    ]


def _literal(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _as_literals(sql: str, bindings: Any) -> str:
    if isinstance(bindings, dict):
        for name, value in bindings.items():
            sql = sql.replace(f":{name}", _literal(value))
        return sql
    for value in bindings:
        sql = sql.replace("?", _literal(value), 1)
    return sql


@pytest.mark.parametrize("case", range(6))
def test_a_bound_parameter_makes_the_calls_its_literal_makes(
    sandbox: Sandbox, con: sqlprovider.Connection, case: int
) -> None:
    sql, bindings = _cases(sandbox)[case]
    literal = con.execute(_as_literals(sql, bindings))
    expected = literal.fetchall()
    bound = con.execute(sql, bindings)
    assert bound.fetchall() == expected
    assert bound.stats["requests"] == literal.stats["requests"]
    # Two droplet list calls (regular and GPU), then only the keys the filter leaves.
    assert literal.stats["requests"] <= 2 + 20


def test_a_key_pinned_by_a_literal_is_the_only_one_read(
    sandbox: Sandbox, con: sqlprovider.Connection
) -> None:
    droplet = sandbox.account.droplet_ids()[3]
    cursor = con.execute(
        f"SELECT count(*) FROM {D} d JOIN {B} b ON b.droplet_id = d.id WHERE b.droplet_id = ?",
        (droplet,),
    )
    cursor.fetchall()
    assert cursor.stats["requests"] == 3  # the two droplet lists and one droplet's backups
