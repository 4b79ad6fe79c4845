"""The engine's rule that joins match within an account, as a rewrite of the statement text."""

from __future__ import annotations

import pytest

from sqlprovider.errors import NotSupportedError
from sqlprovider.sql.accounts import AccountJoins

D = '"digitalocean.compute.droplets"'
B = '"digitalocean.compute.droplet_backups"'
JOINS = AccountJoins(["digitalocean.compute.droplets", "digitalocean.compute.droplet_backups"])


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            f"SELECT * FROM {D} d JOIN {B} b ON b.droplet_id = d.id WHERE d.id > 1",
            f'SELECT * FROM {D} d JOIN {B} b ON (b.droplet_id = d.id) AND "b"."account" = '
            f'"d"."account" WHERE d.id > 1',
        ),
        (  # an OR keeps its meaning: the whole condition is put in parentheses
            f"SELECT 1 FROM {D} d LEFT JOIN {B} b ON b.droplet_id = d.id OR b.id = 3 LIMIT 2",
            f"SELECT 1 FROM {D} d LEFT JOIN {B} b ON (b.droplet_id = d.id OR b.id = 3) AND "
            f'"b"."account" = "d"."account" LIMIT 2',
        ),
        (  # inside a subquery, up to its closing parenthesis
            f"SELECT * FROM (SELECT d.id FROM {D} JOIN {B} AS x ON (x.droplet_id = {D}.id)) t",
            f"SELECT * FROM (SELECT d.id FROM {D} JOIN {B} AS x ON ((x.droplet_id = {D}.id)) "
            f'AND "x"."account" = "digitalocean.compute.droplets"."account") t',
        ),
        (  # a table of the user's own in between is not an API table
            f"SELECT * FROM {D} d JOIN mine m ON m.id = d.id JOIN {B} b ON b.droplet_id = m.id",
            f"SELECT * FROM {D} d JOIN mine m ON m.id = d.id JOIN {B} b ON (b.droplet_id = m.id)"
            ' AND "b"."account" = "d"."account"',
        ),
    ],
)
def test_each_api_table_join_matches_the_first_api_tables_account(sql: str, expected: str) -> None:
    assert JOINS.rewrite(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT * FROM {D}",
        f"SELECT * FROM {D} d JOIN mine m ON m.id = d.id",
        f"SELECT * FROM {B} WHERE droplet_id IN (SELECT id FROM mine)",
        "SELECT 1",
    ],
)
def test_a_statement_with_one_api_table_is_left_alone(sql: str) -> None:
    assert JOINS.rewrite(sql) == sql


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT * FROM {D} d, {B} b WHERE b.droplet_id = d.id",
        f"SELECT * FROM {D} d CROSS JOIN {B} b",
        f"SELECT * FROM {D} d JOIN {B} b USING (id)",
    ],
)
def test_a_join_without_on_between_api_tables_is_refused(sql: str) -> None:
    with pytest.raises(NotSupportedError, match="JOIN ... ON"):
        JOINS.rewrite(sql)
