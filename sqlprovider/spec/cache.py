"""Parse a spec file's YAML, remembering the result as JSON so later starts skip PyYAML.

Importing PyYAML and parsing the spec cost about a fifth of `sqlprovider query`'s start-up.
The parsed document of each file is kept under the user's cache folder, named by a digest of
the file's exact text, so an edited file is parsed afresh and a stale entry is never used.
JSON (not pickle) keeps the cache inert: a cache file is data, never code. Any failure to read
or write the cache falls back to parsing. Imports only `spec.digest` from sqlprovider.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlprovider.spec.digest import sha256_hex

CACHE_ENV = "SQLPROVIDER_CACHE_DIR"


class YamlSyntaxError(ValueError):
    """The text is not valid YAML (the message is PyYAML's)."""


def parse_yaml(text: str) -> Any:
    """The document in `text`, from the cache when this exact text was parsed before.

    Raises:
        YamlSyntaxError: the text is not valid YAML.
    """
    entry = _cache_dir() / f"{sha256_hex(text.encode())[:32]}.json"
    try:
        return json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    import yaml  # only on a cache miss

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML has it
    try:
        document = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc)) from exc
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document), encoding="utf-8")
        temporary.replace(entry)
    except (OSError, TypeError, ValueError):
        pass  # a read-only home or a value JSON cannot hold: parse again next time
    return document


def _cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sqlprovider" / "spec"
