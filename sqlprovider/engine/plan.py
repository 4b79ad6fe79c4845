"""From SQLite's constraints to API calls: which to push down, and which requests to send.

Two pure steps, no apsw and no I/O, so both are unit-tested with plain values:

1. `plan_index` (at BestIndex time) picks the `column = value` constraints the API can take,
   refuses a plan whose required key is only available in another join order, and raises a
   friendly `MissingKeyColumnError` when no join order could ever supply the key.
2. `plan_calls` (at Filter time) checks the values, picks the method and expands IN sets and
   `when_absent: each_value` parameters into the list of calls to make.

Imports `spec`, `engine.params` and `errors`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from sqlprovider.engine.params import normalize, wire_value
from sqlprovider.errors import MissingKeyColumnError
from sqlprovider.spec import Method, Parameter, Resource
from sqlprovider.spec.record import Record

#: SQLite's code for an `=` constraint (SQLITE_INDEX_CONSTRAINT_EQ); IN lists arrive as `=` too.
OP_EQ = 2
#: SQLite's LIMIT and OFFSET pseudo-constraints (SQLITE_INDEX_CONSTRAINT_LIMIT / _OFFSET).
OP_LIMIT = 73
OP_OFFSET = 74
#: Names under which LIMIT and OFFSET reach Filter (they are hints, never sent to the API).
LIMIT_ARG = "$limit"
OFFSET_ARG = "$offset"

#: Estimated cost of one unkeyed list scan and of one keyed call; keyed plans must look much
#: cheaper so SQLite puts the table that supplies the key in the outer loop.
_LIST_COST = 1_000_000.0
_KEYED_COST = 100.0


class Offer(Record):
    """One constraint SQLite offers to BestIndex.

    Attributes:
        column: the constrained column's name (None for rowid or LIMIT/OFFSET pseudo-columns).
        op: SQLite's operator code.
        usable: whether its value is available in this join order.
        can_in: whether SQLite can hand over a whole IN list in one Filter call.
        constant: whether the value is a constant known while planning (a literal).
    """

    column: str | None
    op: int
    usable: bool
    can_in: bool = False
    constant: bool = False


class Use(Record):
    """A constraint the plan consumes: its offer index and how Filter receives it."""

    offer: int
    parameter: str
    omit: bool
    as_set: bool


class IndexPlan(Record):
    """What BestIndex answers: the consumed constraints in Filter argument order, and costs."""

    uses: tuple[Use, ...]
    cost: float
    rows: int

    @property
    def idx_str(self) -> str:
        """The consumed parameter names, comma-separated, in Filter argument order."""
        return ",".join(use.parameter for use in self.uses)


class Call(Record):
    """One request to make (before pagination).

    Attributes:
        method: the endpoint.
        path: the path with every placeholder filled and percent-encoded.
        query: query parameters to send (pagination excepted).
        echo: the value each parameter column shows in the rows of this call.
        page: an explicit page asked for in SQL (only that page is read), else None.
        per_page: page size for paginated methods.
    """

    method: Method
    path: str
    query: tuple[tuple[str, str | int], ...]
    echo: dict[str, Any]
    page: int | None
    per_page: int | None

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str | int], ...], int | None, int | None]:
        """Identity of the call within a statement: equal keys mean identical requests."""
        return (self.path, self.query, self.page, self.per_page)


def plan_index(
    resource: Resource, offers: Sequence[Offer], *, ordered: bool = False
) -> IndexPlan | None:
    """Choose the constraints to push down; None means "not in this join order".

    LIMIT (with OFFSET) is taken as a hint to read no more than needed, only when it is safe:
    no ORDER BY to satisfy first (`ordered`) and every other constraint applied exactly by the
    API. SQLite still applies LIMIT and OFFSET itself, so the hint never changes a result.

    Raises:
        MissingKeyColumnError: a required key column has no `=` or IN constraint at all.
    """
    equalities: dict[str, list[int]] = {}
    for index, offer in enumerate(offers):
        if offer.op != OP_EQ or offer.column is None:
            continue
        parameter = _parameter_of_column(resource, offer.column)
        if parameter is not None:
            equalities.setdefault(parameter.name, []).append(index)
    uses: list[Use] = []
    taken: set[str] = set()
    for parameter in resource.parameters:
        usable = [i for i in equalities.get(parameter.name, []) if offers[i].usable]
        if not usable or _conflicts(resource, parameter, taken):
            continue
        # A literal (or an IN list) beats a join column: it is checked before anything is sent.
        index = max(usable, key=lambda i: (offers[i].constant, offers[i].can_in))
        uses.append(Use(index, parameter.name, parameter.exact, offers[index].can_in))
        taken.add(parameter.name)
    for required in resource.required_parameters:
        if required not in taken:
            if required in equalities:
                return None
            raise missing_key_error(resource, required)
    uses += _limit_hints(offers, uses, ordered)
    keyed = any(p.location == "path" for p in map(resource.parameter, taken))
    narrowing = 1 + sum(1 for name in taken if resource.parameter(name).role is None)
    cost = (_KEYED_COST if keyed else _LIST_COST) / narrowing
    return IndexPlan(tuple(uses), cost, 10 if keyed else 10_000)


def _limit_hints(offers: Sequence[Offer], uses: list[Use], ordered: bool) -> list[Use]:
    exact = {use.offer for use in uses if use.omit}
    others = [i for i, o in enumerate(offers) if o.op not in (OP_LIMIT, OP_OFFSET)]
    if ordered or any(i not in exact for i in others):
        return []
    hints = []
    for op, name in ((OP_LIMIT, LIMIT_ARG), (OP_OFFSET, OFFSET_ARG)):
        found = [i for i, o in enumerate(offers) if o.op == op and o.usable]
        if found:
            hints.append(Use(found[0], name, omit=False, as_set=False))
    return hints if any(h.parameter == LIMIT_ARG for h in hints) else []


def row_limit(names: Sequence[str], values: Sequence[Any]) -> int | None:
    """The most rows a statement can use (LIMIT plus OFFSET), when the plan passed LIMIT."""
    hints = dict(zip(names, values, strict=True))
    limit = hints.get(LIMIT_ARG)
    if not isinstance(limit, int) or limit < 0:
        return None
    offset = hints.get(OFFSET_ARG)
    return limit + (offset if isinstance(offset, int) and offset > 0 else 0)


def plan_calls(
    resource: Resource,
    names: Sequence[str],
    values: Sequence[Any],
    max_per_page: int,
    *,
    limit: int | None = None,
) -> list[Call]:
    """Turn the Filter arguments into the calls to make, validating every value first.

    `values[i]` is the value for parameter `names[i]`: a scalar, or a set for an IN list.
    A NULL key matches nothing in SQL, so it yields no call at all. With a row `limit`, pages
    are no larger than needed.

    Raises:
        InvalidParameterError: a value the API would reject; nothing has been sent.
    """
    given: dict[str, list[int | str]] = {}
    for name, value in zip(names, values, strict=True):
        if name.startswith("$"):
            continue
        parameter = resource.parameter(name)
        raw = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else [value]
        checked = sorted(
            {normalize(resource, parameter, v) for v in raw if v is not None}, key=repr
        )
        given[name] = checked
    if limit == 0 or any(not options for options in given.values()):
        return []
    if limit is not None:
        max_per_page = max(1, min(max_per_page, limit))
    method = _choose_method(resource, given)
    # `page IN (1, 2)` or `per_page IN (5, 10)`: one call per value (each row echoes its own).
    pages = _values(given, resource, "page")
    sizes = _values(given, resource, "per_page")
    sendable = set(method.params)
    choices: dict[str, list[Any]] = {}
    for parameter in resource.parameters:
        if parameter.role is not None:
            continue
        if parameter.name in given and parameter.name in sendable:
            choices[parameter.name] = list(given[parameter.name])
        elif (
            parameter.when_absent == "each_value"
            and parameter.name in sendable
            and not _conflicts(resource, parameter, set(given))
        ):
            choices[parameter.name] = list(parameter.enum)
    calls = []
    names_in_order = list(choices)
    for combo in itertools.product(*(choices[n] for n in names_in_order)):
        chosen = dict(zip(names_in_order, combo, strict=True))
        for page, per_page in itertools.product(pages, sizes):
            calls.append(_make_call(resource, method, chosen, given, page, per_page, max_per_page))
            for extra, echoed in _left_out(resource, method, chosen):
                calls.append(
                    _make_call(resource, method, extra, given, page, per_page, max_per_page, echoed)
                )
    return calls


def _left_out(
    resource: Resource, method: Method, chosen: dict[str, Any]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The calls that complete a filter the API applies too narrowly (`leaves_out`).

    `tag_name = 'k8s'` leaves GPU Droplets out, so `type = gpus` is listed too, without the tag
    filter; the tag stays in the rows' echo, where the parameter's `matches` column checks it
    on each record (SQLite re-checks, the parameter is not exact). Returns (sent, echo-only).
    """
    out = []
    for name, value in chosen.items():
        parameter = resource.parameter(name)
        for values in parameter.leaves_out:
            pinned = dict(values)
            if not set(pinned) <= set(method.params):
                continue
            kept = {
                other: v
                for other, v in chosen.items()
                if other != name
                and other not in pinned
                and not any(_conflicts(resource, resource.parameter(k), {other}) for k in pinned)
            }
            out.append(({**kept, **pinned}, {name: value}))
    return out


def _make_call(
    resource: Resource,
    method: Method,
    chosen: dict[str, Any],
    given: dict[str, list[int | str]],
    page: int | None,
    per_page: int | None,
    max_per_page: int,
    echo_only: dict[str, Any] | None = None,
) -> Call:
    path = method.path
    for name in method.path_params:
        path = path.replace("{" + name + "}", quote(str(chosen[name]), safe=""))
    query = tuple(
        (resource.parameter(n).wire_name, wire_value(resource.parameter(n), chosen[n]))
        for n in method.query
        if n in chosen
    )
    echo: dict[str, Any] = {}
    for parameter in resource.parameters:
        if parameter.name in chosen:
            echo[parameter.name] = chosen[parameter.name]
        elif echo_only and parameter.name in echo_only:
            echo[parameter.name] = echo_only[parameter.name]
        elif parameter.role == "page" and parameter.name in given:
            echo[parameter.name] = page
        elif parameter.role == "per_page" and parameter.name in given:
            echo[parameter.name] = per_page
        else:
            echo[parameter.name] = parameter.default
    if method.paginated:
        per_page = per_page or max_per_page
    else:
        page = per_page = None
    return Call(method, path, query, echo, page, per_page)


def _choose_method(resource: Resource, given: dict[str, list[int | str]]) -> Method:
    """The method with the most path parameters that the query supplies."""
    candidates = [m for m in resource.methods if set(m.path_params) <= set(given)]
    return max(candidates, key=lambda m: len(m.path_params))


def _values(given: dict[str, list[int | str]], resource: Resource, role: str) -> list[int | None]:
    """Every value SQL gives the `page` or `per_page` parameter ([None] when it gives none)."""
    for parameter in resource.parameters:
        if parameter.role == role and parameter.name in given:
            return [int(value) for value in sorted(given[parameter.name], key=int)]
    return [None]


def _conflicts(resource: Resource, parameter: Parameter, taken: set[str]) -> bool:
    if any(other in taken for other in parameter.conflicts_with):
        return True
    return any(parameter.name in resource.parameter(other).conflicts_with for other in taken)


def _parameter_of_column(resource: Resource, column_name: str) -> Parameter | None:
    for column in resource.columns:
        if column.name == column_name and column.parameter is not None:
            return resource.parameter(column.parameter)
    return None


def missing_key_error(resource: Resource, column: str) -> MissingKeyColumnError:
    """The error for a query that never supplies a required key column."""
    parameter = resource.parameter(column)
    example = parameter.example if parameter.example is not None else "..."
    literal = repr(example) if isinstance(example, str) else str(example)
    table = resource.qualified_name
    method = next(m for m in resource.methods if column in m.path_params)
    message = (
        f"{table} needs {column} in WHERE or in a join's ON: the API lists it one "
        f"{column} at a time (GET {method.path}). For example: SELECT * FROM {table} "
        f"WHERE {column} = {literal}"
    )
    if parameter.values_from:
        sources = " or ".join(parameter.values_from)
        first_table, _, first_column = parameter.values_from[0].rpartition(".")
        message += (
            f"; or take the values from {sources}, for example: SELECT * FROM {first_table} s "
            f"JOIN {table} t ON t.{column} = s.{first_column}"
        )
    return MissingKeyColumnError(message + ".", table=table, column=column)
