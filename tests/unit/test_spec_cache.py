"""The parsed-spec cache: the same text is parsed once, an edit or a damaged entry is reparsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlprovider.spec.cache import YamlSyntaxError, parse_yaml


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SQLPROVIDER_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_second_parse_reads_the_cache(cache: Path) -> None:
    assert parse_yaml("a: [1, 2]\nb: {c: x}\n") == {"a": [1, 2], "b": {"c": "x"}}
    (entry,) = cache.glob("*.json")
    entry.write_text('{"a": "from the cache"}')
    assert parse_yaml("a: [1, 2]\nb: {c: x}\n") == {"a": "from the cache"}


def test_edited_text_and_damaged_entries_are_parsed_again(cache: Path) -> None:
    parse_yaml("a: 1\n")
    assert parse_yaml("a: 2\n") == {"a": 2}
    for entry in cache.glob("*.json"):
        entry.write_text("{not json")
    assert parse_yaml("a: 1\n") == {"a": 1}


def test_invalid_yaml_raises_and_caches_nothing(cache: Path) -> None:
    with pytest.raises(YamlSyntaxError):
        parse_yaml("a: [1, 2\n")
    assert list(cache.glob("*.json")) == []
