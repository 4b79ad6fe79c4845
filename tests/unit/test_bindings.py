"""Bound values written into a statement's text for the key query: numbered as SQLite does."""

from __future__ import annotations

import pytest

from sqlprovider.engine.bindings import inline_bindings


@pytest.mark.parametrize(
    ("sql", "bindings", "expected"),
    [
        ("SELECT ? , ?", (1, "a'b"), "SELECT 1 , 'a''b'"),
        ("SELECT ?2, ?, ?1", (1, 2, 3), "SELECT 2, 3, 1"),
        ("SELECT :a, :b, :a", {"a": 1.5, "b": None}, "SELECT 1.5, NULL, 1.5"),
        ("SELECT @a, $b", {"a": b"\x01\xff", "b": True}, "SELECT X'01ff', 1"),
        ("SELECT :a, ?", (7, 8), "SELECT 7, 8"),
        ("SELECT '?' || ?", (4,), "SELECT '?' || 4"),
        ("SELECT 1", (), None),
        ("SELECT ?", None, None),
    ],
)
def test_placeholders_become_literals(sql: str, bindings: object, expected: str | None) -> None:
    assert inline_bindings(sql, bindings) == expected  # type: ignore[arg-type]


def test_comments_and_quotes_keep_their_placeholders() -> None:
    sql = "SELECT '?', \"?\", [?], `?` -- ?\n, /* ? */ ?"
    # Only the last two ? are placeholders: the others sit in quotes, names and comments.
    text = inline_bindings(sql + " + ?", (4, 5))
    assert text == "SELECT '?', \"?\", [?], `?` -- ?\n, /* ? */ 4 + 5"


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", 2**70, float("inf"), object()])
def test_a_value_without_an_exact_literal_leaves_the_text_alone(value: object) -> None:
    assert inline_bindings("SELECT ?", (value,)) is None


def test_a_missing_binding_leaves_the_text_alone() -> None:
    assert inline_bindings("SELECT ?, ?", (1,)) is None
    assert inline_bindings("SELECT :a", {"b": 1}) is None
