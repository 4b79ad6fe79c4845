"""Routes of the emulated API for snapshots, volumes, images and actions.

Each handler reads the account's `Estate` and answers as the official spec describes: optional
filters checked against their enums (a value outside them is a 400), per-parent lists that 404
for an unknown parent, every list paginated with `links` and `meta`. Imports nothing from
sqlprovider.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from .data import Account
from .replies import Reply, Request, droplet_id, error, not_found, page_of

#: The `region_slug` enum the `/v2/volumes` region filter is declared with.
VOLUME_REGIONS = frozenset(
    [
        "ams1",
        "ams2",
        "ams3",
        "blr1",
        "fra1",
        "lon1",
        "nyc1",
        "nyc2",
        "nyc3",
        "sfo1",
        "sfo2",
        "sfo3",
        "sgp1",
        "tor1",
        "syd1",
    ]
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Owner(Protocol):
    """What a route needs from the API object: the account it serves."""

    account: Account


StorageHandler = Callable[[Owner, Request, str], Reply]


def _bad(message: str) -> Reply:
    return error(400, "bad_request", message)


def snapshots(api: Owner, req: Request, _: str) -> Reply:
    """GET /v2/snapshots[?resource_type=droplet|volume]."""
    kind = req.query.get("resource_type")
    if kind is not None and kind not in ("droplet", "volume"):
        return _bad("resource_type must be one of: droplet, volume.")
    return page_of(req, "snapshots", api.account.estate.snapshots(kind))


def droplet_snapshots(api: Owner, req: Request, raw: str) -> Reply:
    """GET /v2/droplets/{droplet_id}/snapshots (404 for an unknown Droplet)."""
    number = droplet_id(raw)
    if number is None or api.account.droplet(number) is None:
        return not_found()
    return page_of(req, "snapshots", api.account.estate.droplet_snapshots(number))


def volumes(api: Owner, req: Request, _: str) -> Reply:
    """GET /v2/volumes[?region=...][&name=...] (both filters exact)."""
    region = req.query.get("region")
    if region is not None and region not in VOLUME_REGIONS:
        return _bad(f"region must be a region slug such as nyc3, not {region!r}.")
    found = api.account.estate.volumes(region, req.query.get("name"))
    return page_of(req, "volumes", found)


def volume_snapshots(api: Owner, req: Request, raw: str) -> Reply:
    """GET /v2/volumes/{volume_id}/snapshots (404 for an unknown volume)."""
    estate = api.account.estate
    if not _UUID.fullmatch(raw) or estate.volume(raw) is None:
        return not_found()
    return page_of(req, "snapshots", estate.volume_snapshots(raw))


def images(api: Owner, req: Request, _: str) -> Reply:
    """GET /v2/images[?private=true][&type=application|distribution][&tag_name=...]."""
    private = req.query.get("private")
    if private is not None and private not in ("true", "false"):
        return _bad("private must be true or false.")
    list_type = req.query.get("type")
    if list_type is not None and list_type not in ("application", "distribution"):
        return _bad("type must be one of: application, distribution.")
    found = api.account.estate.images(private == "true", list_type, req.query.get("tag_name"))
    return page_of(req, "images", found)


def actions(api: Owner, req: Request, _: str) -> Reply:
    """GET /v2/actions: every action of the account, oldest first."""
    return page_of(req, "actions", api.account.estate.actions())


def action(api: Owner, req: Request, raw: str) -> Reply:
    """GET /v2/actions/{action_id}."""
    number = droplet_id(raw)
    found = None if number is None else api.account.estate.action(number)
    return not_found() if found is None else Reply(200, {"action": found})


def droplet_actions(api: Owner, req: Request, raw: str) -> Reply:
    """GET /v2/droplets/{droplet_id}/actions (404 for an unknown Droplet)."""
    number = droplet_id(raw)
    if number is None or api.account.droplet(number) is None:
        return not_found()
    return page_of(req, "actions", api.account.estate.droplet_actions(number))


def droplet_action(api: Owner, req: Request, raw: str) -> Reply:
    """GET /v2/droplets/{droplet_id}/actions/{action_id}."""
    raw_droplet, _, raw_action = raw.partition("/")
    number, action_number = droplet_id(raw_droplet), droplet_id(raw_action)
    if number is None or action_number is None or api.account.droplet(number) is None:
        return not_found()
    found = api.account.estate.action(action_number)
    if found is None or found["resource_type"] != "droplet" or found["resource_id"] != number:
        return not_found()
    return Reply(200, {"action": found})


STORAGE_ROUTES: list[tuple[str, re.Pattern[str], StorageHandler]] = [
    ("GET", re.compile(r"/v2/snapshots"), snapshots),
    ("GET", re.compile(r"/v2/droplets/([^/]+)/snapshots"), droplet_snapshots),
    ("GET", re.compile(r"/v2/volumes"), volumes),
    ("GET", re.compile(r"/v2/volumes/([^/]+)/snapshots"), volume_snapshots),
    ("GET", re.compile(r"/v2/images"), images),
    ("GET", re.compile(r"/v2/actions"), actions),
    ("GET", re.compile(r"/v2/actions/([^/]+)"), action),
    ("GET", re.compile(r"/v2/droplets/([^/]+)/actions"), droplet_actions),
    ("GET", re.compile(r"/v2/droplets/([^/]+)/actions/([^/]+)"), droplet_action),
]
