"""Translation of SHOW/DESCRIBE into SELECTs, and the errors for names that do not exist."""

from __future__ import annotations

import pytest

from sqlprovider.errors import ProgrammingError
from sqlprovider.sql.show import translate_metadata

TABLES = (
    "digitalocean.compute.droplets",
    "digitalocean.compute.droplet_backups",
    "digitalocean.databases.clusters",
    "digitalocean.databases.backups",
)


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1", "  select * from t", "WITH x AS (SELECT 1) SELECT * FROM x", "SHOWCASE", ""],
)
def test_other_sql_is_not_translated(sql: str) -> None:
    assert translate_metadata(sql, TABLES) is None


def test_show_services() -> None:
    sql = translate_metadata("show services in DigitalOcean like 'comp%';", TABLES)
    assert sql is not None
    assert "FROM sqlprovider_services" in sql
    assert "provider = 'digitalocean'" in sql
    assert "service LIKE 'comp%'" in sql


def test_show_resources_accepts_a_service_alone() -> None:
    full = translate_metadata("SHOW RESOURCES IN digitalocean.compute", TABLES)
    short = translate_metadata("SHOW TABLES FROM compute", TABLES)
    assert full == short
    assert full is not None
    assert "service = 'compute'" in full


def test_describe_resolves_short_names_and_hides_parameters() -> None:
    plain = translate_metadata("DESCRIBE droplet_backups", TABLES)
    assert plain is not None
    assert "table_name = 'digitalocean.compute.droplet_backups'" in plain
    assert "hidden = 0" in plain
    extended = translate_metadata("DESC EXTENDED compute.droplet_backups;", TABLES)
    assert extended is not None
    assert "hidden = 0" not in extended
    assert "is_key, required" in extended


def test_show_methods() -> None:
    sql = translate_metadata("SHOW METHODS IN digitalocean.databases.backups", TABLES)
    assert sql is not None
    assert "FROM sqlprovider_methods WHERE table_name = 'digitalocean.databases.backups'" in sql


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DESCRIBE digitalocean.compute.droplet_backup", "digitalocean.compute.droplet_backups"),
        ("SHOW METHODS IN digitalocean.compute.dropplets", "digitalocean.compute.droplets"),
        ("DESCRIBE EXTENDED databases.cluster", "digitalocean.databases.clusters"),
        ("SHOW RESOURCES IN digitalocean.compte", "digitalocean.compute"),
        ("SHOW SERVICES IN digitalocea", "digitalocean"),
    ],
)
def test_unknown_names_raise_with_close_matches(sql: str, expected: str) -> None:
    with pytest.raises(ProgrammingError, match="unknown") as info:
        translate_metadata(sql, TABLES)
    assert f"did you mean {expected}" in str(info.value)


def test_ambiguous_short_name_lists_the_candidates() -> None:
    tables = (*TABLES, "digitalocean.compute.backups")
    with pytest.raises(ProgrammingError, match="ambiguous") as info:
        translate_metadata("DESCRIBE backups", tables)
    assert "digitalocean.compute.backups" in str(info.value)
    assert "digitalocean.databases.backups" in str(info.value)


def test_nothing_similar() -> None:
    with pytest.raises(ProgrammingError, match="no similar name"):
        translate_metadata("DESCRIBE zzzz", TABLES)


def test_without_known_names_nothing_is_checked() -> None:
    sql = translate_metadata("DESCRIBE no.such.table")
    assert sql is not None
    assert "table_name = 'no.such.table'" in sql


def test_quotes_in_like_patterns_stay_literal() -> None:
    sql = translate_metadata("SHOW SERVICES LIKE 'it''s'", TABLES)
    assert sql is not None
    assert "LIKE 'it''s'" in sql
