"""Differential oracle: generated queries agree with plain SQLite tables holding the same data.

Hypothesis builds SELECTs over the virtual tables (single tables, keyed lookups, joins of
droplets, policies and backups, clusters and database backups), with WHERE trees of =, IN, <,
>, BETWEEN, LIKE, IS NULL, AND, OR and NOT, JSON operators, aggregates with GROUP BY, DISTINCT,
ORDER BY, LIMIT and OFFSET. Each runs through sqlprovider and, as is, over plain tables filled
from the sandbox's raw JSON (`oracle.py`); the engine side may add `per_page = N`, which only
changes how pages are read. Results are compared as multisets, or as lists when ORDER BY covers
every output column. Any difference fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sqlprovider
from sqlprovider.sandbox import Sandbox

from .helpers import connect_to
from .oracle import SCHEMA, Snapshot, load

D = "digitalocean.compute.droplets"
B = "digitalocean.compute.droplet_backups"
P = "digitalocean.compute.droplet_backup_policies"
S = "digitalocean.compute.droplet_supported_backup_policies"
C = "digitalocean.databases.clusters"
K = "digitalocean.databases.backups"

#: Key columns the engine refuses to compare with NULL (see sqlprovider/sql/nullkeys.py).
KEYS = {(B, "droplet_id"), (P, "droplet_id"), (K, "database_cluster_uuid")}
NO_BACKUPS = "c.engine NOT IN ('redis', 'valkey')"

#: FROM clauses: (aliases -> table, join text after the first table, WHERE that must stay).
SHAPES: list[tuple[dict[str, str], str, str]] = [
    ({"d": D}, "", ""),
    ({"p": P}, "", ""),
    ({"s": S}, "", ""),
    ({"c": C}, "", ""),
    ({"b": B}, "", "KEYS_B"),
    ({"k": K}, "", "KEYS_K"),
    ({"p": P, "b": B}, f"JOIN {B} b ON b.droplet_id = p.droplet_id", ""),
    ({"d": D, "b": B}, f"JOIN {B} b ON b.droplet_id = d.id", ""),
    ({"d": D, "b": B}, f"LEFT JOIN {B} b ON b.droplet_id = d.id", ""),
    ({"d": D, "p": P}, f"JOIN {P} p ON p.droplet_id = d.id", ""),
    ({"c": C, "k": K}, f"JOIN {K} k ON k.database_cluster_uuid = c.id", NO_BACKUPS),
    ({"c": C, "k": K}, f"LEFT JOIN {K} k ON k.database_cluster_uuid = c.id", NO_BACKUPS),
]
PAGINATED = {D, P, B}
EXAMPLES = int(os.environ.get("ORACLE_EXAMPLES", "300"))


@dataclass
class Query:
    """One generated statement: the engine's text and the oracle's text."""

    engine: str
    oracle: str
    ordered: bool
    parts: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(sandbox: Sandbox) -> Iterator[tuple[sqlprovider.Connection, Snapshot]]:
    """A cached connection to the shared sandbox and the plain-table copy of its data."""
    snapshot = load(sandbox.url, sandbox.token)
    con = connect_to(sandbox, cache_ttl=3600.0)
    yield con, snapshot
    con.close()
    snapshot.db.close()


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def draw_value(draw: Any, snap: Snapshot, table: str, column: str) -> Any:
    seen = [v for v in snap.values[(table, column)] if v is not None]
    kind = SCHEMA[table][column]
    extra: list[Any] = []
    if kind in ("integer", "boolean"):
        extra = [0, 1, -1, 4, 100, 2**40]
    elif kind == "real":
        extra = [0.5, 1.0, 2.5]
    elif kind == "text":
        extra = ["", "a", "zzz", "nyc3"]
    pool = seen + extra
    if (table, column) in KEYS or (table, column) == (D, "type"):
        # A value the API would reject is refused before sending (tests/reliability/
        # test_bad_input.py), so keys and enums get only valid values, existing or not.
        pool = seen + ([4, 999_999_999] if kind == "integer" else [])
    return draw(st.sampled_from(pool)) if pool else None


def predicate(draw: Any, snap: Snapshot, aliases: dict[str, str]) -> str:
    alias = draw(st.sampled_from(sorted(aliases)))
    table = aliases[alias]
    column = draw(st.sampled_from(sorted(SCHEMA[table])))
    kind = SCHEMA[table][column]
    ref = f"{alias}.{column}"
    value = draw_value(draw, snap, table, column)
    forms = ["=", "<", ">", "between", "in", "null"]
    if kind == "text":
        forms.append("like")
    if kind == "boolean":
        forms.append("bool")
    if kind == "json":
        forms = ["json_first", "json_len", "like_json", "null"]
    if (table, column) in KEYS:
        forms = [f for f in forms if f != "null"]
    form = draw(st.sampled_from(forms))
    if form in ("=", "<", ">"):
        return f"{ref} {form} {literal(value)}"
    if form == "between":
        other = draw_value(draw, snap, table, column)
        low, high = sorted([value, other], key=lambda v: (v is None, str(type(v)), v))
        return f"{ref} BETWEEN {literal(low)} AND {literal(high)}"
    if form == "in":
        more = [draw_value(draw, snap, table, column) for _ in range(draw(st.integers(0, 3)))]
        return f"{ref} IN ({', '.join(literal(v) for v in [value, *more])})"
    if form == "null":
        return f"{ref} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    if form == "like":
        text = str(value or "")
        cut = draw(st.integers(0, max(0, len(text))))
        pattern = draw(st.sampled_from([text[:cut] + "%", "%" + text[cut:], "%" + text[:cut]]))
        return f"{ref} LIKE {literal(pattern)}"
    if form == "bool":
        return draw(st.sampled_from([ref, f"NOT {ref}"]))
    if form == "json_first":
        return f"{ref} ->> '$[0]' = {literal(draw(st.sampled_from(['backups', 'ipv6', 'SUN', 0])))}"
    if form == "json_len":
        return f"json_array_length({ref}) > {draw(st.integers(0, 3))}"
    word = draw(st.sampled_from(["backups", "production", "nyc", "plan", "weekly"]))
    return f"{ref} LIKE '%{word}%'"


def condition(draw: Any, snap: Snapshot, aliases: dict[str, str], depth: int = 0) -> str:
    if depth >= 2 or draw(st.booleans()):
        return predicate(draw, snap, aliases)
    op = draw(st.sampled_from(["AND", "OR", "NOT"]))
    if op == "NOT":
        return f"NOT ({condition(draw, snap, aliases, depth + 1)})"
    left = condition(draw, snap, aliases, depth + 1)
    right = condition(draw, snap, aliases, depth + 1)
    return f"({left} {op} {right})"


def key_filter(draw: Any, snap: Snapshot, alias: str, table: str, column: str) -> str:
    if table == K:  # only clusters that have backups (redis and valkey answer 422)
        engines = {r[0]: r[1] for r in snap.query(f'SELECT id, engine FROM "{C}"')}
        pool = [u for u, e in engines.items() if e not in ("redis", "valkey")]
        pool.append("00000000-0000-4000-8000-000000000000")
    else:
        pool = [*snap.values[(table, column)], 999_999_999]
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    if len(chosen) == 1:
        return f"{alias}.{column} = {literal(chosen[0])}"
    return f"{alias}.{column} IN ({', '.join(map(literal, chosen))})"


def output(draw: Any, aliases: dict[str, str]) -> tuple[list[str], list[str]]:
    """(select expressions, group by expressions)."""
    refs = [f"{a}.{c}" for a, t in sorted(aliases.items()) for c in SCHEMA[t]]
    numeric = [
        f"{a}.{c}"
        for a, t in sorted(aliases.items())
        for c, kind in SCHEMA[t].items()
        if kind in ("integer", "real")
    ]
    json_exprs = [
        f"{a}.{c} ->> '$[0]'"
        for a, t in sorted(aliases.items())
        for c, kind in SCHEMA[t].items()
        if kind == "json"
    ]
    if "p" in aliases:
        json_exprs.append("p.backup_policy ->> 'plan'")
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(refs + json_exprs), min_size=1, max_size=5))
        return chosen, []
    groups = draw(st.lists(st.sampled_from(refs), min_size=0, max_size=2, unique=True))
    aggregates = ["count(*)"]
    aggregates += [f"count({r})" for r in refs] + [f"count(DISTINCT {r})" for r in refs]
    aggregates += [f"min({r})" for r in refs] + [f"max({r})" for r in refs]
    aggregates += [f"round(sum({n}), 6)" for n in numeric]
    aggregates += [f"round(avg({n}), 6)" for n in numeric]
    chosen = draw(st.lists(st.sampled_from(aggregates), min_size=1, max_size=3))
    return groups + chosen, groups


@st.composite
def queries(draw: Any, snap: Snapshot) -> Query:
    aliases, join, fixed = draw(st.sampled_from(SHAPES))
    first_alias = next(iter(aliases))
    first = f"{aliases[first_alias]} {first_alias}"
    conjuncts: list[str] = []
    if fixed == "KEYS_B":
        conjuncts.append(key_filter(draw, snap, "b", B, "droplet_id"))
    elif fixed == "KEYS_K":
        conjuncts.append(key_filter(draw, snap, "k", K, "database_cluster_uuid"))
    elif fixed:
        conjuncts.append(fixed)
    if draw(st.integers(0, 3)):
        conjuncts.append(condition(draw, snap, aliases))
    engine_only = []
    for alias, table in aliases.items():
        pageable = table in PAGINATED and not (join.startswith("LEFT") and alias != first_alias)
        if pageable and draw(st.integers(0, 2)) == 0:
            engine_only.append(f"{alias}.per_page = {draw(st.sampled_from([1, 3, 7, 50]))}")
    exprs, groups = output(draw, aliases)
    distinct = "DISTINCT " if not groups and draw(st.integers(0, 4)) == 0 else ""
    head = f"SELECT {distinct}{', '.join(exprs)} FROM {first} {join}".rstrip()
    tail = f" GROUP BY {', '.join(groups)}" if groups else ""
    ordered = draw(st.booleans())
    if ordered:
        directions = [draw(st.sampled_from(["", " DESC"])) for _ in exprs]
        tail += " ORDER BY " + ", ".join(f"{i}{d}" for i, d in enumerate(directions, start=1))
        if draw(st.booleans()):
            tail += f" LIMIT {draw(st.integers(0, 12))}"
            if draw(st.booleans()):
                tail += f" OFFSET {draw(st.integers(0, 10))}"

    def render(extra: list[str]) -> str:
        where = conjuncts + extra
        return head + (" WHERE " + " AND ".join(where) if where else "") + tail

    oracle_sql = render([])
    for name in SCHEMA:
        oracle_sql = oracle_sql.replace(f"{name} ", f'"{name}" ')
    return Query(render(engine_only), oracle_sql, ordered)


def compare(query: Query, got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    if not query.ordered:
        got, want = sorted(got, key=repr), sorted(want, key=repr)
    assert got == want, (
        f"\nengine: {query.engine}\noracle: {query.oracle}\n"
        f"engine rows ({len(got)}): {got[:8]}\noracle rows ({len(want)}): {want[:8]}"
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_engine_agrees_with_plain_sqlite(
    world: tuple[sqlprovider.Connection, Snapshot], data: st.DataObject
) -> None:
    con, snap = world
    query = data.draw(queries(snap), label="query")
    want = snap.query(query.oracle)
    got = [tuple(row) for row in con.execute(query.engine).fetchall()]
    compare(query, got, want)


def test_the_oracle_holds_every_table_with_rows(
    world: tuple[sqlprovider.Connection, Snapshot],
) -> None:
    """The comparison means something only if every table has data on both sides."""
    con, snap = world
    for table in SCHEMA:
        count = snap.query(f'SELECT count(*) FROM "{table}"')[0][0]
        assert count > 0, table
    everything = f"SELECT count(*) FROM {D}"
    assert con.execute(everything).fetchall() == snap.query(f'SELECT count(*) FROM "{D}"')


@pytest.mark.stress
@settings(
    max_examples=int(os.environ.get("ORACLE_STRESS_EXAMPLES", "5000")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_engine_agrees_with_plain_sqlite_stress(
    world: tuple[sqlprovider.Connection, Snapshot], data: st.DataObject
) -> None:
    """The same comparison, many more examples (`pytest -m stress`)."""
    con, snap = world
    query = data.draw(queries(snap), label="query")
    got = [tuple(row) for row in con.execute(query.engine).fetchall()]
    compare(query, got, snap.query(query.oracle))
