"""The StackQL metadata statements, translated into SELECTs over the metadata tables.

    SHOW SERVICES [IN digitalocean] [LIKE 'pattern']
    SHOW RESOURCES IN digitalocean.compute [LIKE 'pattern']
    SHOW METHODS IN digitalocean.compute.droplet_backups
    DESCRIBE [EXTENDED] digitalocean.compute.droplet_backups

Because they become ordinary SQL, they work the same in the shell, `sqlprovider query` and
DB-API, and their results have a description like any other query. Given the known table
names, a statement about a table or service that does not exist fails at translation time with
a ProgrammingError naming the close matches, instead of quietly returning no rows.
Imports only `errors`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from sqlprovider.errors import ProgrammingError

_NAME = r"([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)"
_LIKE = r"(?:\s+LIKE\s+('(?:[^']|'')*'))?"
_END = r"\s*;?\s*$"

_SHOW_SERVICES = re.compile(rf"^\s*SHOW\s+SERVICES(?:\s+(?:IN|FROM)\s+{_NAME})?{_LIKE}{_END}", re.I)
_SHOW_RESOURCES = re.compile(
    rf"^\s*SHOW\s+(?:RESOURCES|TABLES)(?:\s+(?:IN|FROM)\s+{_NAME})?{_LIKE}{_END}", re.I
)
_SHOW_METHODS = re.compile(rf"^\s*SHOW\s+METHODS\s+(?:IN|FROM)\s+{_NAME}{_END}", re.I)
_DESCRIBE = re.compile(rf"^\s*(?:DESCRIBE|DESC)\s+(EXTENDED\s+)?{_NAME}{_END}", re.I)


class _Catalog:
    """The known three-part table names, and how a typed name resolves to one of them."""

    def __init__(self, tables: Iterable[str]) -> None:
        self.tables = sorted({t.lower() for t in tables})
        self.providers = sorted({t.split(".")[0] for t in self.tables})
        self.services = sorted({t.rsplit(".", 1)[0] for t in self.tables})

    def table(self, typed: str, statement: str) -> str:
        """The full name `typed` stands for (full, service.resource or resource alone)."""
        name = typed.lower()
        if name in self.tables:
            return name
        endings = [t for t in self.tables if t.endswith("." + name)]
        if len(endings) == 1:
            return endings[0]
        raise _unknown("table", typed, statement, self.tables, endings)

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
        raise _unknown("provider or service", typed, statement, self.providers + self.services, [])

    def provider(self, typed: str, statement: str) -> str:
        """`typed` as a known provider name."""
        if typed.lower() in self.providers:
            return typed.lower()
        raise _unknown("provider", typed, statement, self.providers, [])


def _unknown(
    kind: str, typed: str, statement: str, known: list[str], ambiguous: list[str]
) -> ProgrammingError:
    """An error naming what the user may have meant, so a typo costs one look."""
    if ambiguous:
        hint = "it is ambiguous: write one of " + ", ".join(ambiguous)
    else:
        lowered = typed.lower()
        last = {k.rsplit(".", 1)[-1]: k for k in known}
        close = difflib.get_close_matches(lowered, known, n=3, cutoff=0.6)
        close += [
            last[m] for m in difflib.get_close_matches(lowered.rsplit(".", 1)[-1], list(last), n=3)
        ]
        close = list(dict.fromkeys(close))[:3]
        hint = ("did you mean " + " or ".join(close) + "?") if close else "no similar name exists"
    listing = "SHOW RESOURCES lists every table" if kind == "table" else "SHOW SERVICES lists them"
    return ProgrammingError(f"{statement}: unknown {kind} {typed!r}; {hint} ({listing})")


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
    if match := _SHOW_SERVICES.match(sql):
        provider, like = match.groups()
        if catalog is not None and provider:
            provider = catalog.provider(provider, "SHOW SERVICES")
        where = _filters(("provider", provider), like=("service", like))
        return (
            "SELECT provider, service, description FROM sqlprovider_services"
            f"{where} ORDER BY service"
        )
    if match := _SHOW_RESOURCES.match(sql):
        scope, like = match.groups()
        parts: list[str] = []
        if scope:
            parts = catalog.scope(scope, "SHOW RESOURCES") if catalog else scope.lower().split(".")
        where = _filters(
            ("provider", parts[0] if parts else None),
            ("service", parts[1] if len(parts) > 1 else None),
            like=("name", like),
        )
        return (
            "SELECT name, table_name AS id, description, required_keys FROM sqlprovider_resources"
            f"{where} ORDER BY table_name"
        )
    if match := _SHOW_METHODS.match(sql):
        name = match.group(1)
        if catalog is not None:
            name = catalog.table(name, "SHOW METHODS")
        where = _filters(("table_name", name))
        return (
            "SELECT method AS MethodName, required_params AS RequiredParams, optional_params AS "
            f"OptionalParams, sql_verb AS SQLVerb, path AS Path FROM sqlprovider_methods{where}"
        )
    if match := _DESCRIBE.match(sql):
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
