"""Under every fault the sandbox can inject, a query returns all its rows or fails clearly.

"Clearly" means a `sqlprovider.Error` whose message names the request or table that failed.
Never a subset, never duplicates, never a hang (pytest-timeout and short client timeouts).
Each test also checks that faults were really injected, so a passing run proves something.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sqlprovider.errors import (
    AuthenticationError,
    ListChangedError,
    RateLimitError,
    ResponseError,
    ServiceError,
)
from sqlprovider.sandbox import Faults, Sandbox

from .faultcheck import QUERIES, problem, run
from .helpers import UNLIMITED, connect_to

pytestmark = pytest.mark.timeout(60)

TRANSIENT_KINDS = [
    "429-no-retry-after",
    "500",
    "502",
    "503",
    "504",
    "reset",
    "truncate",
    "slow",
    "huge-header",
    "drip",
]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A sandbox of this module's own (faults are swapped per test; data never changes)."""
    with Sandbox(seed=5, droplets=20, clusters=6, **UNLIMITED) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def baseline(sb: Sandbox) -> dict[str, list[tuple[object, ...]]]:
    """The fault-free rows of every query."""
    sb.faults = None
    out = {}
    for name, sql in QUERIES.items():
        outcome = run(sb, sql)
        assert outcome.error is None, outcome.error
        assert outcome.rows, f"{name} must return rows for the test to mean anything"
        out[name] = outcome.rows
    return out


def _faulted(sb: Sandbox) -> int:
    return sum(1 for record in sb.requests if record.fault is not None)


@pytest.mark.parametrize("query", list(QUERIES))
@pytest.mark.parametrize("kind", TRANSIENT_KINDS)
def test_transient_faults_give_all_rows_or_a_clear_error(
    sb: Sandbox, baseline: dict[str, list[tuple[object, ...]]], kind: str, query: str
) -> None:
    sb.faults = Faults(
        rate=0.3, kinds=(kind,), schedule={2: kind}, seed=len(query) + len(kind), slow_seconds=0.5
    )
    sb.clear_requests()
    try:
        outcome = run(sb, QUERIES[query], timeout=0.25)
    finally:
        sb.faults = None
    assert _faulted(sb) > 0, "no fault was injected, so this run proves nothing"
    assert problem(outcome, baseline[query]) is None, problem(outcome, baseline[query])


@pytest.mark.parametrize("query", ["droplets", "policy_backups"])
def test_429_with_retry_after_is_waited_out(
    sb: Sandbox, baseline: dict[str, list[tuple[object, ...]]], query: str
) -> None:
    sb.faults = Faults(schedule={2: "429"}, retry_after=1)
    sb.clear_requests()
    try:
        outcome = run(sb, QUERIES[query])
    finally:
        sb.faults = None
    assert _faulted(sb) == 1
    assert outcome.error is None, outcome.error
    assert outcome.rows == baseline[query]


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("429-no-retry-after", RateLimitError),
        ("500", ServiceError),
        ("502", ServiceError),
        ("503", ServiceError),
        ("reset", ServiceError),
        ("truncate", ResponseError),
        ("slow", ServiceError),
        ("huge-header", ServiceError),
        ("drip", ServiceError),
        ("401", AuthenticationError),
        ("redirect", ResponseError),
        ("gzip-bomb", ResponseError),
    ],
)
@pytest.mark.parametrize("query", ["policies", "policy_backups"])
def test_a_fault_that_never_clears_fails_the_statement(
    sb: Sandbox, kind: str, error: type[Exception], query: str
) -> None:
    # Every request of one path keeps failing: the policies from page 2 on, or every backups list.
    pattern = r"/policies$" if query == "policies" else r"/v2/droplets/\d+/backups$"
    schedule = {n: kind for n in range(2 if query == "policies" else 1, 2000)}
    sb.faults = Faults(schedule=schedule, path_pattern=pattern, slow_seconds=0.5)
    sb.clear_requests()
    try:
        outcome = run(sb, QUERIES[query], retries=2, timeout=0.25)
    finally:
        sb.faults = None
    assert outcome.rows is None, "a query whose pages kept failing returned rows"
    assert isinstance(outcome.error, error), repr(outcome.error)
    assert problem(outcome, []) is None, problem(outcome, [])
    assert "GET /v2/droplets/" in str(outcome.error)


@pytest.mark.parametrize(
    ("kind", "named"),
    [("redirect", "a redirect to http://198.51.100.7"), ("gzip-bomb", "once decoded")],
)
def test_a_hostile_answer_on_one_page_fails_at_once_without_retrying_it(
    sb: Sandbox, kind: str, named: str
) -> None:
    # Not a passing trouble: sent again, the same server would answer the same way.
    sb.faults = Faults(schedule={2: kind}, path_pattern=r"/policies$")
    sb.clear_requests()
    try:
        outcome = run(sb, QUERIES["policies"], retries=2, timeout=2.0)
    finally:
        sb.faults = None
    assert outcome.rows is None
    assert isinstance(outcome.error, ResponseError), repr(outcome.error)
    assert named in str(outcome.error)
    assert _faulted(sb) == 1  # refused, not sent again


@pytest.mark.parametrize("page", [2, 3, 4])
def test_401_in_the_middle_of_pagination_fails_without_partial_rows(sb: Sandbox, page: int) -> None:
    sb.faults = Faults(schedule={page: "401"}, path_pattern=r"/policies$")
    try:
        outcome = run(sb, QUERIES["policies"])
    finally:
        sb.faults = None
    assert outcome.rows is None
    assert isinstance(outcome.error, AuthenticationError)
    assert "GET /v2/droplets/backups/policies" in str(outcome.error)


@pytest.mark.parametrize("query", ["droplets", "policies"])
@pytest.mark.parametrize("at", [2, 3])
def test_data_changing_between_pages_is_detected(
    make_sandbox: Callable[..., Sandbox], query: str, at: int
) -> None:
    sb = make_sandbox(seed=9, droplets=20, **UNLIMITED)
    before = run(sb, QUERIES[query])
    path = r"/v2/droplets$" if query == "droplets" else r"/policies$"
    sb.faults = Faults(schedule={at: "mutate"}, path_pattern=path)
    during = run(sb, QUERIES[query])
    sb.faults = None
    after = run(sb, QUERIES[query])
    assert before.rows is not None
    assert after.rows is not None
    assert before.rows != after.rows, "the mutation must change the list"
    if during.error is not None:
        assert isinstance(during.error, ListChangedError), repr(during.error)
        assert "Run it again" in str(during.error)
    else:
        assert during.rows in (before.rows, after.rows), "rows from a list caught mid-change"


def test_a_large_page_broken_off_is_not_kept_in_the_response_cache(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    # A page of 300 Droplets is past payload.LARGE, so it is stored before it is parsed.
    sb = make_sandbox(seed=3, droplets=300, **UNLIMITED)
    sql = "SELECT id, name FROM digitalocean.compute.droplets"
    expected = run(sb, sql).rows
    assert expected is not None
    assert len(expected) == 300
    sb.faults = Faults(schedule={1: "truncate"}, path_pattern=r"/v2/droplets$")
    sb.clear_requests()
    with connect_to(sb, cache_ttl=600.0, timeout=2.0, backoff=0.01) as con:
        first = sorted(con.execute(sql).fetchall(), key=repr)
        again = sorted(con.execute(sql).fetchall(), key=repr)
    assert _faulted(sb) == 1
    assert first == again == expected
