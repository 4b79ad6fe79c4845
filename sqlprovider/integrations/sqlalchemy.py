"""SQLAlchemy dialect, so Superset, pandas and notebooks reach the API through a URL.

    from sqlalchemy import create_engine, text
    engine = create_engine("sqlprovider://:TOKEN@/")          # or the environment's token
    engine = create_engine("sqlprovider://?api_url=http://127.0.0.1:8080&cache_ttl=60")
    with engine.connect() as c:
        c.execute(text("SELECT id, name FROM digitalocean.compute.droplets")).all()

The dialect is SQLAlchemy's SQLite dialect with `sqlprovider.dbapi` as its DBAPI: the SQL it
compiles is SQLite's, and the cursor quotes three-part names. The token goes in the password slot
(`sqlprovider://:TOKEN@/`), which SQLAlchemy masks when it prints a URL; a `?token=` query
parameter is accepted too, and is moved into the password slot of `engine.url` as soon as the
engine exists, so `repr(engine)` and `str(engine.url)` never show it. Without either, the token
comes from $DIGITALOCEAN_TOKEN (then $DIGITALOCEAN_ACCESS_TOKEN), as in `sqlprovider.connect`.
Other query parameters are the `connect()` settings of `sqlprovider.options.ConnectOptions`
(api_url, max_concurrency, cache_ttl, timeout, retries, ...), checked there. The URL's path is
the SQLite file for your own tables (`sqlprovider:///local.db`; none means in memory).

The inspector lists each API table under its three-part name (`digitalocean.compute.droplets`) in
the default schema, since SQLite has no room for a three-level namespace: SQLAlchemy quotes the
name whole, which is how SQLite knows the table. Columns and their types come from
`sqlprovider_columns`; hidden parameter columns (page, tag_name, raw...) are listed as well, with
`info["hidden"]` set, because a BI filter on them is how a query passes the parameter. API tables
have no keys or indexes. Tables of your own in the database file are reflected as SQLite's.
Imports `options`, and `dbapi` at connect time, beside `cli` in the layering.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

from sqlalchemy import pool
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Engine, reflection
from sqlalchemy.engine.interfaces import ReflectedColumn, ReflectedTableComment
from sqlalchemy.exc import ArgumentError, NoSuchTableError

from sqlprovider import options as settings
from sqlprovider.options import ConnectOptions, OptionError
from sqlprovider.sql.names import NameResolver

__all__ = ["SqlproviderDialect", "connect_options"]


#: URL query parameters: the `ConnectOptions` settings a URL may carry (declared there once).
OPTIONS: tuple[str, ...] = tuple(f.name for f in settings.fields() if f.metadata["url"])


def connect_options(url: URL) -> dict[str, Any]:
    """The keyword arguments of `sqlprovider.connect()` that `url` asks for.

    Raises:
        ArgumentError: a host or user name is given, an option is unknown or malformed, or the
            token is given twice with different values.
    """
    if url.host or url.port:
        raise ArgumentError(
            "a sqlprovider URL takes no host: give the API address as ?api_url=..., for example "
            "sqlprovider://?api_url=http://127.0.0.1:8080"
        )
    if url.username:
        raise ArgumentError(
            "put the token in the password slot, which SQLAlchemy masks: sqlprovider://:TOKEN@/"
        )
    options: dict[str, Any] = {}
    for name, value in url.query.items():
        if name not in OPTIONS:
            raise ArgumentError(
                f"unknown sqlprovider URL option {name!r}; known: {', '.join(sorted(OPTIONS))}"
            )
        if not isinstance(value, str):
            raise ArgumentError(f"URL option {name!r} is given more than once")
        try:
            options[name] = settings.parse_text(name, value)
        except OptionError as exc:
            raise ArgumentError(f"URL option {name}={value!r} is malformed: {exc.problem}") from exc
    if url.password:
        if options.get("token", url.password) != url.password:
            raise ArgumentError("the URL gives two different tokens (password slot and ?token=)")
        options["token"] = url.password
    try:
        ConnectOptions.from_values(options)  # every value checked here, named as in the URL
    except OptionError as exc:
        raise ArgumentError(f"URL option ?{exc.option}= {exc.problem}") from exc
    if url.database:
        options["database"] = url.database
    return options


def masked_url(url: URL) -> URL:
    """`url` with a `?token=` moved into the password slot, where SQLAlchemy masks it."""
    token = url.query.get("token")
    if not isinstance(token, str):
        return url
    return url.difference_update_query(["token"]).set(username="", password=token)


def _regexp(pattern: str | None, value: str | None) -> int | None:
    if pattern is None or value is None:
        return None
    return int(re.search(pattern, value) is not None)


def _raw(connection: Any) -> Any:
    """The sqlprovider connection behind a pool's proxy (SQLAlchemy passes either)."""
    return getattr(connection, "dbapi_connection", None) or connection


class SqlproviderDialect(SQLiteDialect_pysqlite):
    """SQLite as SQLAlchemy knows it, over `sqlprovider.dbapi`, with the API tables reflected."""

    driver = "sqlprovider"
    supports_statement_cache = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # DBAPI connections in autocommit mode (SQLAlchemy's AUTOCOMMIT isolation level).
        self._autocommit: weakref.WeakSet[Any] = weakref.WeakSet()

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        """`sqlprovider.dbapi`: a complete PEP 249 module."""
        from sqlprovider import dbapi

        return dbapi

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        """A queue of connections: each has its own SQLite handle, the response cache is shared."""
        return pool.QueuePool

    @classmethod
    def engine_created(cls, engine: Engine) -> None:
        """Hide a `?token=` from every later rendering of the engine's URL."""
        engine.url = masked_url(engine.url)

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        """`sqlprovider.connect()` arguments from the URL (see `connect_options`)."""
        return [], connect_options(url)

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        return tuple(self.dbapi.sqlite_version_info)  # type: ignore[union-attr]

    def on_connect(self) -> Callable[[Any], None]:
        """Give each connection REGEXP, which SQLite leaves to the application."""

        def connect(dbapi_connection: Any) -> None:
            dbapi_connection.apsw_connection.create_scalar_function(
                "regexp", _regexp, 2, deterministic=True
            )

        return connect

    # Transactions: apsw runs each statement in its own transaction unless told BEGIN, so the
    # dialect says BEGIN for SQLAlchemy's transactions (own tables then commit and roll back as
    # SQLAlchemy expects); AUTOCOMMIT skips it.

    def set_isolation_level(self, dbapi_connection: Any, level: Any) -> None:
        """AUTOCOMMIT, or SQLite's READ UNCOMMITTED / SERIALIZABLE pragma."""
        if level == "AUTOCOMMIT":
            self._autocommit.add(_raw(dbapi_connection))
            return
        self._autocommit.discard(_raw(dbapi_connection))
        super(SQLiteDialect_pysqlite, self).set_isolation_level(dbapi_connection, level)

    def detect_autocommit_setting(self, dbapi_conn: Any) -> bool:
        """Whether SQLAlchemy put this connection in AUTOCOMMIT."""
        return _raw(dbapi_conn) in self._autocommit

    def do_begin(self, dbapi_connection: Any) -> None:
        """Open a real SQLite transaction unless the connection is in AUTOCOMMIT."""
        if _raw(dbapi_connection) in self._autocommit:
            return
        if not dbapi_connection.apsw_connection.in_transaction:
            dbapi_connection.cursor().execute("BEGIN")

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        """A closed sqlprovider connection cannot be used again."""
        from sqlprovider.errors import InterfaceError

        return isinstance(e, InterfaceError) and "is closed" in str(e)

    # Reflection: API tables from the metadata tables, anything else as plain SQLite.

    @reflection.cache
    def _resources(self, connection: Any, **kw: Any) -> dict[str, str]:
        rows = connection.exec_driver_sql(
            "SELECT table_name, description FROM sqlprovider_resources ORDER BY table_name"
        ).all()
        return {name: description for name, description in rows}

    def _resource(
        self, connection: Any, table_name: str, schema: str | None, **kw: Any
    ) -> str | None:
        """The API table `table_name` names (whole or short, as in SQL), or None.

        A short name (`droplets`) resolves as the cursor resolves it in SQL: only while it is
        unambiguous, and never over a table of your own of that name.
        """
        if schema not in (None, "main"):
            return None
        resources = self._resources(connection, **kw)
        if table_name.lower() in resources:
            return table_name.lower()
        full = NameResolver(resources).lookup(table_name)
        if full is None:
            return None
        # Not SQLite's has_table: reflection.cache keys by method name, so it would answer from
        # this dialect's own has_table.
        own = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?1 COLLATE "
            "NOCASE UNION ALL SELECT 1 FROM sqlite_temp_schema WHERE type IN ('table', 'view') "
            "AND name = ?1 COLLATE NOCASE",
            (table_name,),
        ).first()
        return None if own else full

    @reflection.cache
    def get_table_names(
        self,
        connection: Any,
        schema: str | None = None,
        sqlite_include_internal: bool = False,
        **kw: Any,
    ) -> list[str]:
        """The API tables by three-part name, then the database file's own tables."""
        own = list(
            super().get_table_names(  # type: ignore[no-untyped-call]
                connection, schema=schema, sqlite_include_internal=sqlite_include_internal, **kw
            )
        )
        if schema not in (None, "main"):
            return own
        return list(self._resources(connection, **kw)) + own

    @reflection.cache
    def has_table(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> bool:
        """True for an API table or a table of the database file."""
        if self._resource(connection, table_name, schema, **kw):
            return True
        return bool(
            super().has_table(  # type: ignore[no-untyped-call]
                connection, table_name, schema=schema, **kw
            )
        )

    @reflection.cache
    def get_columns(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[ReflectedColumn]:
        """Columns from `sqlprovider_columns`: SQLite types, descriptions, hidden and key flags."""
        if not self._resource(connection, table_name, schema, **kw):
            return list(
                super().get_columns(  # type: ignore[no-untyped-call]
                    connection, table_name, schema=schema, **kw
                )
            )
        rows = connection.exec_driver_sql(
            "SELECT name, type, description, hidden, is_key, required FROM sqlprovider_columns "
            "WHERE table_name = ? ORDER BY position",
            (self._resource(connection, table_name, schema, **kw),),
        ).all()
        # "info" is not a key of ReflectedColumn, but Table reflection copies it onto the Column.
        return [
            cast(
                ReflectedColumn,
                {
                    "name": name,
                    "type": self._resolve_type_affinity(declared),  # type: ignore[no-untyped-call]
                    "nullable": True,
                    "default": None,
                    "autoincrement": False,
                    "comment": description or None,
                    "info": {
                        "hidden": bool(hidden),
                        "key": bool(is_key),
                        "required": bool(required),
                    },
                },
            )
            for name, declared, description, hidden, is_key, required in rows
        ]

    def _empty_for_resources(name: str) -> Callable[..., Any]:  # type: ignore[misc]  # noqa: N805
        """A reflection method: an empty answer for API tables, SQLite's answer otherwise."""
        base = getattr(SQLiteDialect_pysqlite, name)

        def method(
            self: SqlproviderDialect,
            connection: Any,
            table_name: str,
            schema: str | None = None,
            **kw: Any,
        ) -> Any:
            if self._resource(connection, table_name, schema, **kw):
                return _EMPTY[name]()
            return base(self, connection, table_name, schema=schema, **kw)

        # Named before caching: reflection.cache keys its entries by the function's name.
        method.__name__ = name
        method.__doc__ = f"SQLite's {name}; API tables have none (they have no keys or indexes)."
        return reflection.cache(method)

    get_pk_constraint = _empty_for_resources("get_pk_constraint")
    get_foreign_keys = _empty_for_resources("get_foreign_keys")
    get_indexes = _empty_for_resources("get_indexes")
    get_unique_constraints = _empty_for_resources("get_unique_constraints")
    get_check_constraints = _empty_for_resources("get_check_constraints")
    get_table_options = _empty_for_resources("get_table_options")
    del _empty_for_resources

    @reflection.cache
    def get_table_comment(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> ReflectedTableComment:
        """An API table's description from the spec."""
        resource = self._resource(connection, table_name, schema, **kw)
        if resource:
            return {"text": self._resources(connection, **kw)[resource] or None}
        if not self.has_table(connection, table_name, schema=schema, **kw):
            raise NoSuchTableError(table_name)
        return {"text": None}


_EMPTY: dict[str, Callable[[], Any]] = {
    "get_pk_constraint": lambda: {"constrained_columns": [], "name": None},
    "get_foreign_keys": list,
    "get_indexes": list,
    "get_unique_constraints": list,
    "get_check_constraints": list,
    "get_table_options": dict,
}
