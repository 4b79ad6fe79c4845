"""Read the sandbox directly over HTTP, page by page: the independent truth engine tests compare to."""

from __future__ import annotations

from typing import Any

import requests

from sqlprovider.sandbox import Sandbox


def get(sb: Sandbox, path: str, **params: Any) -> Any:
    """One GET of the sandbox with its token; raises on an error status."""
    response = requests.get(
        sb.url + path, params=params, headers={"Authorization": f"Bearer {sb.token}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def get_all(sb: Sandbox, path: str, key: str, **params: Any) -> list[Any]:
    """Every record of a paginated list (a map's values for `policies`)."""
    out: list[Any] = []
    page = 1
    while True:
        body = get(sb, path, page=page, per_page=200, **params)
        records = body[key]
        out += list(records.values()) if isinstance(records, dict) else records
        if "next" not in body.get("links", {}).get("pages", {}):
            return out
        page += 1


def all_droplets(sb: Sandbox) -> list[dict[str, Any]]:
    """Regular and GPU droplets (the API hides GPU ones without `type`)."""
    return get_all(sb, "/v2/droplets", "droplets", type="droplets") + get_all(
        sb, "/v2/droplets", "droplets", type="gpus"
    )
