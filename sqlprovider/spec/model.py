"""The provider specification as frozen records: what a resource is, with no I/O.

Everything the engine, the docs and the metadata tables know about a resource comes from here;
there is no per-resource Python anywhere else. The write vocabulary (`Write` and its parts) is in
`spec.write_model`. Imports only `spec.record` (frozen dataclasses without their import-time
code generation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from sqlprovider.spec.record import Record, field

if TYPE_CHECKING:
    from sqlprovider.spec.write_model import Write

ColumnType = Literal["integer", "real", "text", "boolean", "json", "timestamp"]
ParameterType = Literal["integer", "string", "boolean"]
#: The HTTP verbs an operation may use, and the SQL statements that can reach one.
HttpVerb = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
SqlVerb = Literal["SELECT", "INSERT", "UPDATE", "DELETE"]
HTTP_VERBS: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")

#: How each column type is declared to SQLite (decides affinity and the DB-API type code).
#: Timestamps stay TEXT: ISO 8601 strings sort and compare correctly as text.
SQLITE_TYPES: dict[str, str] = {
    "integer": "INTEGER",
    "real": "REAL",
    "text": "TEXT",
    "boolean": "BOOLEAN",
    "json": "JSON",
    "timestamp": "TEXT",
}

RAW_COLUMN = "raw"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class Pagination(Record):
    """How the provider's list endpoints paginate."""

    page_param: str
    per_page_param: str
    max_per_page: int
    next_link: tuple[str, ...]
    total: tuple[str, ...]


class Match(Record):
    """The meaning of an API filter on a record: `column` holds the value (``element``: as one
    item of a JSON array, such as a tag in ``tags``; ``value``: as the whole value;
    ``negation``: a boolean filter true where the boolean column is false, such as images'
    ``private`` and ``public``), or ``api``: no record column says it, only the API knows
    (images' ``type=distribution``), so SQLite cannot re-check it and `column` is empty."""

    column: str
    kind: Literal["element", "value", "negation", "api"] = "element"


class AccountInfo(Record):
    """The call that says whose token it is (the team columns of `sqlprovider_accounts`).

    Attributes:
        path: the endpoint, such as ``/v2/account``.
        team_name: where the team's name is in its body (dotted path, split).
        team_uuid: where the team's uuid is.
    """

    path: str
    team_name: tuple[str, ...]
    team_uuid: tuple[str, ...]


class Parameter(Record):
    """One API parameter of a resource, which SQL supplies through `column = value`.

    Attributes:
        exact: the API applies the filter exactly as SQLite would, so SQLite may skip its re-check.
        when_absent: ``each_value`` makes an unconstrained query call once per enum value (the
            API's default hides some records, such as GPU Droplets).
        default: what the API assumes when the parameter is not sent; echoed in its column.
        values_from: qualified ``table.column`` names that can supply the value in a join.
        values_where: for a `values_from` table, the SQL condition (over that table's columns)
            its rows must meet to be a valid key here: ``engine NOT IN ('redis', 'valkey')`` for
            clusters that have backups. `sync` reads the keyed table only for those rows.
        role: ``page`` or ``per_page`` for the pagination parameters the engine adds itself.
        matches: what the filter means in terms of a record column (``tags`` holds the value):
            the parameter's column then shows the value only on rows that meet it, so SQLite
            can check rows the API did not filter.
        leaves_out: parameter values (``{type: gpus}``) whose records the API's filter leaves
            out although they may meet it: the engine also lists those records without the
            filter and SQLite checks `matches` on them, so the pushed filter stays exact.
        api_name: the name the API knows the parameter by, when the SQL column needs another
            (images' ``type`` filter is not the images' ``type`` attribute).
    """

    name: str
    location: Literal["path", "query"]
    type: ParameterType
    description: str
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] = ()
    format: Literal["uuid"] | None = None
    exact: bool = True
    default: str | int | None = None
    when_absent: Literal["omit", "each_value"] = "omit"
    conflicts_with: tuple[str, ...] = ()
    values_from: tuple[str, ...] = ()
    values_where: dict[str, str] = field(default_factory=dict)
    example: str | int | None = None
    role: Literal["page", "per_page"] | None = None
    matches: Match | None = None
    leaves_out: tuple[tuple[tuple[str, str], ...], ...] = ()
    api_name: str | None = None

    @property
    def wire_name(self) -> str:
        """The query-string name sent to the API."""
        return self.api_name or self.name


class Operation(Record):
    """One HTTP request shape: verb, path template, and where its records sit in the answer.

    Reads (`Method`) and writes share it, so the client, the docs and the metadata tables have
    one notion of "a call" whatever its verb.

    Attributes:
        verb: the HTTP verb (``GET`` for every read).
        path: the URL path with ``{placeholders}`` filled from key columns.
        records: dotted path to the records in the response body.
    """

    verb: HttpVerb
    path: str
    records: tuple[str, ...]

    @property
    def path_params(self) -> tuple[str, ...]:
        """Names of the `{placeholders}` in the path, in order."""
        return tuple(_PLACEHOLDER.findall(self.path))


class EmptyAnswer(Record):
    """An error answer of one method that means "nothing here": zero rows, plus a notice.

    A 404 for a Droplet that does not exist is the SQL answer "no backups", but a silent one is
    indistinguishable from a Droplet without backups, so the statement also gets a notice
    (`cursor.warnings`). Only the answer declared here counts: a 404 from a wrong base URL or a
    proxy, without the API's own error id, stays an error.

    Attributes:
        status: the HTTP status of the answer.
        error_id: the `id` its error body must carry (None: any body).
        message: text its error message must contain, without regard to case (None: any).
        notice: what the notice says after the key, such as ``not found``.
    """

    status: int
    error_id: str | None = None
    message: str | None = None
    notice: str = "not found"

    def matches(self, status: int | None, error_id: str | None, message: str | None) -> bool:
        """Whether an error answer (status, body id, body message) is this one."""
        if status != self.status:
            return False
        if self.error_id is not None and error_id != self.error_id:
            return False
        return self.message is None or self.message.casefold() in (message or "").casefold()


class Method(Record):
    """One HTTP endpoint that can produce the resource's rows (a read: SQL SELECT).

    Attributes:
        records: dotted path to the records in the response body.
        shape: ``list`` (an array), ``map`` (an object whose values are the records) or
            ``object`` (a single record).
        not_found: ``empty`` turns the API's own 404 answer into zero rows plus a notice (a
            per-parent list or get); it is the first of `empty_on`.
        empty_on: the error answers that mean zero rows (each with its notice).
        map_key: for a ``map`` shape, the record field the map's keys hold (the key wins over
            the record's own copy, which the API does not promise to send).
        map_key_type: ``integer`` when the keys are decimal text for an integer field.
        batch_with: a keyless method of the same resource whose records are exactly what this
            keyed method returns for each key (a record absent from it means a 404 here), so
            many keys can be answered from a few list pages instead of one call each.
    """

    name: str
    path: str
    records: tuple[str, ...]
    shape: Literal["list", "map", "object"] = "list"
    paginated: bool = False
    query: tuple[str, ...] = ()
    not_found: Literal["empty", "error"] = "error"
    batch_with: str | None = None
    verb: HttpVerb = "GET"
    sql_verb: SqlVerb = "SELECT"
    empty_on: tuple[EmptyAnswer, ...] = ()
    map_key: str | None = None
    map_key_type: Literal["integer", "string"] = "string"

    @property
    def operation(self) -> Operation:
        """The request this method sends, as the client and the docs see it."""
        return Operation(self.verb, self.path, self.records)

    def empty_answer(
        self, status: int | None, error_id: str | None, message: str | None
    ) -> EmptyAnswer | None:
        """The declared rule an error answer falls under, if any (it then means zero rows)."""
        return next(
            (rule for rule in self.empty_on if rule.matches(status, error_id, message)), None
        )

    @property
    def path_params(self) -> tuple[str, ...]:
        """Names of the `{placeholders}` in the path, in order."""
        return tuple(_PLACEHOLDER.findall(self.path))

    @property
    def params(self) -> tuple[str, ...]:
        """Every parameter this method sends: path first, then query."""
        return self.path_params + self.query


class Column(Record):
    """One SQL column and where its value comes from.

    Attributes:
        path: dotted path into the record (or into the response when `scope` is ``response``).
        hidden: left out of ``SELECT *`` (parameters and ``raw``), still usable in WHERE.
        parameter: the API parameter this column feeds, if any.
        matches: for a parameter with `Parameter.matches`, the test and the record path it
            reads: the column shows the parameter's value only on rows that meet it.
    """

    name: str
    type: ColumnType
    description: str
    path: tuple[str, ...]
    scope: Literal["record", "response"] = "record"
    hidden: bool = False
    parameter: str | None = None
    matches: tuple[Literal["element", "value", "negation"], tuple[str, ...]] | None = None

    @property
    def sqlite_type(self) -> str:
        """The declared SQLite type of the column."""
        return SQLITE_TYPES[self.type]


class Example(Record):
    """A query shown in the docs and run against the sandbox by the tests."""

    description: str
    sql: str


class Resource(Record):
    """One SQL table backed by one or more API endpoints.

    Attributes:
        identity: the columns that tell one record from another (an id, or a parent key and
            a timestamp); `sync` makes them the primary key, empty when the spec names none.
    """

    provider: str
    service: str
    name: str
    description: str
    methods: tuple[Method, ...]
    parameters: tuple[Parameter, ...]
    columns: tuple[Column, ...]
    examples: tuple[Example, ...]
    identity: tuple[str, ...] = ()
    error_hints: dict[int, str] = field(default_factory=dict)
    writes: tuple[Write, ...] = ()

    def write(self, sql_verb: str) -> Write | None:
        """The write this resource takes for an SQL verb (``UPDATE``, ``INSERT``), or None."""
        return next((w for w in self.writes if w.sql_verb == sql_verb), None)

    @property
    def qualified_name(self) -> str:
        """The three-part SQL name, such as ``digitalocean.compute.droplet_backups``."""
        return f"{self.provider}.{self.service}.{self.name}"

    def parameter(self, name: str) -> Parameter:
        """Return the parameter called `name` (KeyError when there is none)."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    def column(self, name: str) -> Column:
        """Return the column called `name` (KeyError when there is none)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def required_parameters(self) -> tuple[str, ...]:
        """Parameters every method needs: a query that lacks one cannot be answered."""
        needed = [set(method.path_params) for method in self.methods]
        common = set.intersection(*needed) if needed else set()
        return tuple(p.name for p in self.parameters if p.name in common)

    @property
    def is_paginated(self) -> bool:
        """Whether any method of the resource paginates."""
        return any(method.paginated for method in self.methods)


class Service(Record):
    """A group of resources, one spec file."""

    name: str
    description: str
    resources: tuple[Resource, ...]


class RecipeParameter(Record):
    """A named value a recipe's SQL takes as `:name` (bound, never pasted into the SQL)."""

    name: str
    default: str | int | float
    description: str


class Recipe(Record):
    """A question people ask about their account, answered by one runnable SQL statement.

    Attributes:
        name: the recipe's identifier (`sqlprovider recipes NAME`).
        title: a one-line title.
        question: the question it answers.
        shape: what one row of the answer is.
        parameters: the `:name` values it takes, each with a default.
        sql: the statement.
    """

    name: str
    title: str
    question: str
    shape: str
    parameters: tuple[RecipeParameter, ...]
    sql: str

    def defaults(self) -> dict[str, str | int | float]:
        """The bindings that run the recipe as written."""
        return {p.name: p.default for p in self.parameters}


class Provider(Record):
    """Everything the engine serves: the provider, its services and their resources."""

    name: str
    description: str
    api_url: str
    api_url_env: str
    token_env: tuple[str, ...]
    pagination: Pagination
    services: tuple[Service, ...]
    account_info: AccountInfo | None = None
    #: Questions answered in SQL, from `<provider>/recipes/*.yaml`.
    recipes: tuple[Recipe, ...] = ()
    #: (requests, seconds) windows the API allows per token, such as ((250, 60.0),).
    rate_limits: tuple[tuple[int, float], ...] = ()
    #: OAuth scopes a token needs, by action (``read``, ``write``): named on a 401 or 403.
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def path_prefix(self) -> str:
        """The first path segment every method path shares (``/v2``), or "" when none is shared.

        A base URL that ends with it is the API's address written with its version: the client
        drops it rather than request ``/v2/v2/...``.
        """
        firsts = {
            "/" + method.path.lstrip("/").split("/", 1)[0]
            for resource in self.resources()
            for method in resource.methods
        }
        return firsts.pop() if len(firsts) == 1 and "/" not in firsts else ""

    def resources(self) -> Iterator[Resource]:
        """Every resource of every service, in spec order."""
        for service in self.services:
            yield from service.resources

    def resource(self, qualified_name: str) -> Resource:
        """Return a resource by its three-part name, without regard to case."""
        wanted = qualified_name.lower()
        for resource in self.resources():
            if resource.qualified_name == wanted:
                return resource
        raise KeyError(qualified_name)
