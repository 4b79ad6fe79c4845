"""The StackQL metadata statements, translated into SELECTs over the metadata tables.

    SHOW [EXTENDED] PROVIDERS [LIKE 'pattern']
    SHOW [EXTENDED] SERVICES [IN digitalocean] [LIKE 'pattern']
    SHOW [EXTENDED] RESOURCES IN digitalocean.compute [LIKE 'pattern']
    SHOW [EXTENDED] METHODS IN digitalocean.compute.droplet_backups
    DESCRIBE [EXTENDED] digitalocean.compute.droplet_backups

EXTENDED adds columns, as in StackQL: services get their resource count, resources whether they
are paginated, methods their HTTP verb and paging, DESCRIBE the hidden, key and required flags.
A table may be named whole or by a shorter unambiguous form (`NameResolver`).

Because they become ordinary SQL, they work the same in the shell, `sqlprovider query` and
DB-API, and their results have a description like any other query. Given the known table
names, a statement about a table or service that does not exist fails at translation time with
a ProgrammingError naming the close matches, instead of quietly returning no rows.
Imports `sql.names` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlprovider.sql.names import NameResolver, unknown_name

_NAME = r"([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)"
_LIKE = r"(?:\s+LIKE\s+('(?:[^']|'')*'))?"
_END = r"\s*;?\s*$"

_EXTENDED = r"(EXTENDED\s+)?"
# Patterns, not compiled ones: `re` compiles each on the first metadata statement (and keeps
# it), so a process that runs none does not pay for them at import.
_SHOW_PROVIDERS = rf"^\s*SHOW\s+{_EXTENDED}PROVIDERS{_LIKE}{_END}"
_SHOW_SERVICES = rf"^\s*SHOW\s+{_EXTENDED}SERVICES(?:\s+(?:IN|FROM)\s+{_NAME})?{_LIKE}{_END}"
_SHOW_RESOURCES = (
    rf"^\s*SHOW\s+{_EXTENDED}(?:RESOURCES|TABLES)(?:\s+(?:IN|FROM)\s+{_NAME})?{_LIKE}{_END}"
)
_SHOW_METHODS = rf"^\s*SHOW\s+{_EXTENDED}METHODS\s+(?:IN|FROM)\s+{_NAME}{_END}"
_DESCRIBE = rf"^\s*(?:DESCRIBE|DESC)\s+(EXTENDED\s+)?{_NAME}{_END}"


class _Catalog:
    """The known three-part table names, and how a typed name resolves to one of them."""

    def __init__(self, tables: Iterable[str]) -> None:
        self.names = NameResolver(tables)
        self.tables = self.names.tables
        self.providers = self.names.providers
        self.services = sorted({t.rsplit(".", 1)[0] for t in self.tables})

    def table(self, typed: str, statement: str) -> str:
        """The full name `typed` stands for (full, service.resource or resource alone)."""
        return self.names.resolve(typed, statement)

    def scope(self, typed: str, statement: str) -> list[str]:
        """`typed` split into [provider] or [provider, service], checked to exist."""
        name = typed.lower()
        parts = name.split(".")
        if len(parts) == 1 and name in self.providers:
            return parts
        if len(parts) == 2 and name in self.services:
            return parts
        if len(parts) == 1:
            endings = [s for s in self.services if s.endswith("." + name)]
            if len(endings) == 1:
                return endings[0].split(".")
        raise unknown_name(
            "provider or service", typed, statement, self.providers + self.services, []
        )

    def provider(self, typed: str, statement: str) -> str:
        """`typed` as a known provider name."""
        if typed.lower() in self.providers:
            return typed.lower()
        raise unknown_name("provider", typed, statement, self.providers, [])


def translate_metadata(sql: str, tables: Iterable[str] | None = None) -> str | None:
    """The SELECT for a metadata statement, or None when `sql` is not one.

    Args:
        sql: the statement as the user wrote it.
        tables: every known three-part table name; when given, names in the statement are
            checked (and short names such as ``droplets`` resolved) before translating.

    Raises:
        ProgrammingError: `tables` was given and the statement names no known table or service.
    """
    if not sql.lstrip()[:8].upper().startswith(("SHOW", "DESC")):
        return None
    catalog = _Catalog(tables) if tables is not None else None
    if match := re.match(_SHOW_PROVIDERS, sql, re.I):
        extended, like = match.groups()
        where = _filters(like=("provider", like))
        extra = ", count(*) AS services" if extended else ""
        return (
            f"SELECT provider AS name{extra} FROM sqlprovider_services{where} "
            "GROUP BY provider ORDER BY provider"
        )
    if match := re.match(_SHOW_SERVICES, sql, re.I):
        extended, provider, like = match.groups()
        if catalog is not None and provider:
            provider = catalog.provider(provider, "SHOW SERVICES")
        where = _filters(("s.provider", provider), like=("s.service", like))
        if extended:
            return (
                "SELECT s.provider, s.service, s.description, count(r.table_name) AS resources "
                "FROM sqlprovider_services s LEFT JOIN sqlprovider_resources r "
                f"ON r.provider = s.provider AND r.service = s.service{where} "
                "GROUP BY s.provider, s.service ORDER BY s.service"
            )
        return (
            "SELECT provider, service, description FROM sqlprovider_services s"
            f"{where} ORDER BY service"
        )
    if match := re.match(_SHOW_RESOURCES, sql, re.I):
        extended, scope, like = match.groups()
        parts: list[str] = []
        if scope:
            parts = catalog.scope(scope, "SHOW RESOURCES") if catalog else scope.lower().split(".")
        where = _filters(
            ("provider", parts[0] if parts else None),
            ("service", parts[1] if len(parts) > 1 else None),
            like=("name", like),
        )
        extra = ", paginated" if extended else ""
        return (
            "SELECT name, table_name AS id, description, required_keys"
            f"{extra} FROM sqlprovider_resources{where} ORDER BY table_name"
        )
    if match := re.match(_SHOW_METHODS, sql, re.I):
        extended, name = match.groups()
        if catalog is not None:
            name = catalog.table(name, "SHOW METHODS")
        where = _filters(("table_name", name))
        extra = ", http AS HTTPVerb, paginated AS Paginated" if extended else ""
        return (
            "SELECT method AS MethodName, required_params AS RequiredParams, optional_params AS "
            f"OptionalParams, sql_verb AS SQLVerb, path AS Path{extra} FROM sqlprovider_methods"
            f"{where}"
        )
    if match := re.match(_DESCRIBE, sql, re.I):
        extended, name = match.groups()
        if catalog is not None:
            name = catalog.table(name, "DESCRIBE")
        where = _filters(("table_name", name)) + ("" if extended else " AND hidden = 0")
        extra = ", hidden, is_key, required" if extended else ""
        return (
            f"SELECT name, type, description{extra} FROM sqlprovider_columns{where} "
            "ORDER BY position"
        )
    return None


def _filters(*equal: tuple[str, str | None], like: tuple[str, str | None] | None = None) -> str:
    terms = [f"{column} = {_quote(value.lower())}" for column, value in equal if value]
    if like is not None and like[1]:
        terms.append(f"{like[0]} LIKE {like[1]}")
    return " WHERE " + " AND ".join(terms) if terms else " WHERE 1"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
