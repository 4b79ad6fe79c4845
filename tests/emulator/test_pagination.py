"""Pagination: page/per_page bounds, links that make sense, absolute URLs from Host, totals."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sqlprovider.sandbox import Sandbox

Api = Callable[..., requests.Response]


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_first_page_has_only_next_and_last(api: Api, sandbox: Sandbox) -> None:
    total = len(sandbox.account.droplet_ids())
    body = api("/v2/droplets/backups/policies?per_page=10").json()
    pages = body["links"]["pages"]
    assert set(pages) == {"next", "last"}
    assert body["meta"]["total"] == total
    assert _query(pages["next"])["page"] == ["2"]
    assert _query(pages["last"])["page"] == [str(-(-total // 10))]


def test_middle_page_has_all_four_links(api: Api) -> None:
    pages = api("/v2/droplets/backups/policies?per_page=10&page=2").json()["links"]["pages"]
    assert set(pages) == {"first", "prev", "next", "last"}
    assert _query(pages["first"])["page"] == ["1"]
    assert _query(pages["prev"])["page"] == ["1"]
    assert _query(pages["next"])["page"] == ["3"]


def test_last_page_has_only_first_and_prev(api: Api, sandbox: Sandbox) -> None:
    last = -(-len(sandbox.account.droplet_ids()) // 10)
    body = api(f"/v2/droplets/backups/policies?per_page=10&page={last}").json()
    assert set(body["links"]["pages"]) == {"first", "prev"}
    assert 1 <= len(body["policies"]) <= 10


def test_single_page_has_empty_links(api: Api) -> None:
    body = api("/v2/droplets/backups/policies?per_page=200").json()
    assert body["links"] == {}


def test_links_are_absolute_from_host_and_keep_other_params(sandbox: Sandbox) -> None:
    resp = requests.get(
        f"{sandbox.url}/v2/droplets?name=x&per_page=1&type=droplets",
        headers={"Authorization": f"Bearer {sandbox.token}", "Host": "api.example.test:8443"},
        timeout=10,
    )
    assert resp.status_code == 200
    assert resp.json()["links"] == {}  # no droplet is named x
    ids = sandbox.account.droplet_ids(gpu=False)
    resp = requests.get(
        f"{sandbox.url}/v2/droplets?type=droplets&per_page=2",
        headers={"Authorization": f"Bearer {sandbox.token}", "Host": "api.example.test:8443"},
        timeout=10,
    )
    nxt = resp.json()["links"]["pages"]["next"]
    assert nxt.startswith("http://api.example.test:8443/v2/droplets?")
    assert _query(nxt) == {"type": ["droplets"], "per_page": ["2"], "page": ["2"]}
    assert resp.json()["meta"]["total"] == len(ids)


def test_walking_next_links_yields_every_id_once_in_order(api: Api, sandbox: Sandbox) -> None:
    url: str | None = f"{sandbox.url}/v2/droplets/backups/policies?per_page=7"
    seen: list[int] = []
    while url:
        body = requests.get(url, headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=10)
        data = body.json()
        seen += [int(k) for k in data["policies"]]
        url = data["links"].get("pages", {}).get("next")
    assert seen == sandbox.account.droplet_ids()


@pytest.mark.parametrize(
    "query", ["per_page=0", "per_page=201", "per_page=abc", "page=0", "page=-1", "page=x"]
)
def test_invalid_page_params_answer_400(api: Api, query: str) -> None:
    resp = api(f"/v2/droplets?{query}")
    assert resp.status_code == 400
    assert resp.json()["id"] == "bad_request"


def test_per_page_200_is_allowed(api: Api) -> None:
    assert api("/v2/droplets/backups/policies?per_page=200").status_code == 200


def test_default_per_page_is_20(api: Api) -> None:
    body = api("/v2/droplets/backups/policies").json()
    assert len(body["policies"]) == 20
    assert _query(body["links"]["pages"]["next"])["page"] == ["2"]


def test_page_past_the_end_is_empty_200(api: Api, sandbox: Sandbox) -> None:
    resp = api("/v2/droplets/backups/policies?page=99&per_page=10")
    assert resp.status_code == 200
    body = resp.json()
    assert body["policies"] == {}
    assert body["meta"]["total"] == len(sandbox.account.droplet_ids())
    assert "next" not in body["links"]["pages"]


def test_unpaginated_endpoints_ignore_page_params(api: Api) -> None:
    plain = api("/v2/databases").json()
    assert api("/v2/databases?page=5&per_page=1").json() == plain
    assert "links" not in plain
    assert "meta" not in plain
    assert api("/v2/droplets/backups/supported_policies?per_page=0").status_code == 200
