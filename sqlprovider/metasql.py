"""The StackQL metadata statements, translated into SELECTs over the metadata tables.

    SHOW SERVICES [IN digitalocean] [LIKE 'pattern']
    SHOW RESOURCES IN digitalocean.compute [LIKE 'pattern']
    SHOW METHODS IN digitalocean.compute.droplet_backups
    DESCRIBE [EXTENDED] digitalocean.compute.droplet_backups

Because they become ordinary SQL, they work the same in the shell, `sqlprovider query` and
DB-API, and their results have a description like any other query. Imports nothing else.
"""

from __future__ import annotations

import re

_NAME = r"([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)"
_LIKE = r"(?:\s+LIKE\s+('(?:[^']|'')*'))?"
_END = r"\s*;?\s*$"

_SHOW_SERVICES = re.compile(rf"^\s*SHOW\s+SERVICES(?:\s+(?:IN|FROM)\s+{_NAME})?{_LIKE}{_END}", re.I)
_SHOW_RESOURCES = re.compile(rf"^\s*SHOW\s+(?:RESOURCES|TABLES)(?:\s+(?:IN|FROM)\s+{_NAME})?{_LIKE}{_END}", re.I)
_SHOW_METHODS = re.compile(rf"^\s*SHOW\s+METHODS\s+(?:IN|FROM)\s+{_NAME}{_END}", re.I)
_DESCRIBE = re.compile(rf"^\s*(?:DESCRIBE|DESC)\s+(EXTENDED\s+)?{_NAME}{_END}", re.I)


def translate_metadata(sql: str) -> str | None:
    """The SELECT for a metadata statement, or None when `sql` is not one."""
    if not sql.lstrip()[:8].upper().startswith(("SHOW", "DESC")):
        return None
    if match := _SHOW_SERVICES.match(sql):
        provider, like = match.groups()
        where = _filters(("provider", provider), like=("service", like))
        return f"SELECT provider, service, description FROM sqlprovider_services{where} ORDER BY service"
    if match := _SHOW_RESOURCES.match(sql):
        scope, like = match.groups()
        parts = (scope or "").lower().split(".") if scope else []
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
        where = _filters(("table_name", match.group(1)))
        return (
            "SELECT method AS MethodName, required_params AS RequiredParams, optional_params AS "
            f"OptionalParams, sql_verb AS SQLVerb, path AS Path FROM sqlprovider_methods{where}"
        )
    if match := _DESCRIBE.match(sql):
        extended, name = match.groups()
        where = _filters(("table_name", name)) + ("" if extended else " AND hidden = 0")
        extra = ", hidden, is_key, required" if extended else ""
        return f"SELECT name, type, description{extra} FROM sqlprovider_columns{where} ORDER BY position"
    return None


def _filters(*equal: tuple[str, str | None], like: tuple[str, str | None] | None = None) -> str:
    terms = [f"{column} = {_quote(value.lower())}" for column, value in equal if value]
    if like is not None and like[1]:
        terms.append(f"{like[0]} LIKE {like[1]}")
    return " WHERE " + " AND ".join(terms) if terms else " WHERE 1"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
