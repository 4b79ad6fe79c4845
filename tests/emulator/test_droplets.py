"""GET /v2/droplets: GPU vs regular, the name/tag/type filters and their combinations."""

from __future__ import annotations

from collections.abc import Callable

import requests

from sqlprovider.sandbox import Sandbox

Api = Callable[..., requests.Response]


def _ids(api: Api, query: str) -> list[int]:
    resp = api(f"/v2/droplets?per_page=200&{query}")
    assert resp.status_code == 200, resp.text
    return [d["id"] for d in resp.json()["droplets"]]


def test_without_type_only_regular_droplets(api: Api, sandbox: Sandbox) -> None:
    ids = _ids(api, "")
    assert ids == sandbox.account.droplet_ids(gpu=False)
    assert ids == sorted(ids)
    assert not set(ids) & set(sandbox.account.droplet_ids(gpu=True))


def test_type_gpus_only_gpu_droplets_with_gpu_info(api: Api, sandbox: Sandbox) -> None:
    resp = api("/v2/droplets?type=gpus&per_page=200").json()
    gpu_ids = sandbox.account.droplet_ids(gpu=True)
    assert gpu_ids, "the account should hold some GPU droplets"
    assert [d["id"] for d in resp["droplets"]] == gpu_ids
    assert all("gpu_info" in d and d["size_slug"].startswith("gpu-") for d in resp["droplets"])
    assert resp["meta"]["total"] == len(gpu_ids)


def test_type_droplets_equals_default(api: Api) -> None:
    assert _ids(api, "type=droplets") == _ids(api, "")


def test_about_ten_percent_are_gpu() -> None:
    with Sandbox(seed=11, droplets=1000) as sb:
        assert len(sb.account.droplet_ids(gpu=True)) == 100


def test_name_is_exact_and_case_insensitive(api: Api, sandbox: Sandbox) -> None:
    droplet = api("/v2/droplets?per_page=3").json()["droplets"][2]
    assert _ids(api, f"name={droplet['name'].upper()}") == [droplet["id"]]
    assert _ids(api, f"name={droplet['name'][:-1]}") == []


def test_name_with_type_gpus(api: Api, sandbox: Sandbox) -> None:
    gpu = api("/v2/droplets?type=gpus").json()["droplets"][0]
    assert _ids(api, f"type=gpus&name={gpu['name']}") == [gpu["id"]]
    assert _ids(api, f"name={gpu['name']}") == []  # GPU droplets are hidden without type


def test_tag_name_filters_regular_droplets(api: Api, sandbox: Sandbox) -> None:
    everything = api("/v2/droplets?per_page=200").json()["droplets"]
    expected = [d["id"] for d in everything if "env:prod" in d["tags"]]
    assert expected
    assert _ids(api, "tag_name=env:prod") == expected


def test_tag_name_cannot_be_combined(api: Api) -> None:
    for query in ("tag_name=web&name=x", "tag_name=web&type=gpus", "tag_name=web&type=droplets"):
        resp = api(f"/v2/droplets?{query}")
        assert resp.status_code == 400
        assert resp.json()["id"] == "bad_request"


def test_unknown_type_is_400(api: Api) -> None:
    assert api("/v2/droplets?type=all").status_code == 400


def test_droplet_fields_have_spec_types(api: Api) -> None:
    droplet = api("/v2/droplets").json()["droplets"][0]
    assert isinstance(droplet["id"], int)
    assert droplet["id"] > 1_000_000
    assert droplet["status"] in {"new", "active", "off", "archive"}
    assert droplet["memory"] % 8 == 0
    assert all(isinstance(b, int) for b in droplet["backup_ids"])
    assert isinstance(droplet["networks"]["v4"], list)
