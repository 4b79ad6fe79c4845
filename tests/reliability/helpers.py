"""Shared helpers of the reliability tests: connections, table names, spec path patterns."""

from __future__ import annotations

import re
from typing import Any

import sqlprovider
from sqlprovider.engine.attach import load_provider
from sqlprovider.sandbox import Sandbox
from tests.conftest import UNLIMITED  # noqa: F401 - the reliability tests import it from here
from tests.conftest import connect_to as _connect_to

DROPLETS = "digitalocean.compute.droplets"
BACKUPS = "digitalocean.compute.droplet_backups"
POLICIES = "digitalocean.compute.droplet_backup_policies"
SUPPORTED = "digitalocean.compute.droplet_supported_backup_policies"
CLUSTERS = "digitalocean.databases.clusters"
DB_BACKUPS = "digitalocean.databases.backups"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def connect_to(sb: Sandbox, **kwargs: Any) -> sqlprovider.Connection:
    """The suite's test connection, with a 2 s timeout: a `slow` fault (2 s) must time out."""
    return _connect_to(sb, **{"timeout": 2.0, **kwargs})


def path_templates() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    """One regex per GET path of the loaded spec (`{x}` -> one segment), with its placeholders."""
    out = []
    for resource in load_provider().resources():
        for method in resource.methods:
            names = tuple(re.findall(r"\{(\w+)\}", method.path))
            pattern = re.escape(method.path)
            for name in names:
                pattern = pattern.replace(re.escape("{" + name + "}"), "([^/]+)")
            out.append((re.compile(pattern), names))
    return out


def is_valid_segment(name: str, value: str) -> bool:
    """Whether a decoded path value is what the spec allows: an id >= 1 or a lower-case uuid."""
    if name == "database_cluster_uuid":
        return _UUID.fullmatch(value) is not None
    return value.isascii() and value.isdigit() and not value.startswith("0") and int(value) < 2**63


def matches_spec(path: str) -> bool:
    """Whether a request path (still percent-encoded) fits one of the spec's templates."""
    from urllib.parse import unquote

    for pattern, names in path_templates():
        match = pattern.fullmatch(path)
        if match is not None and all(
            is_valid_segment(n, unquote(v)) for n, v in zip(names, match.groups(), strict=True)
        ):
            return True
    return False
