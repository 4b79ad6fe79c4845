"""The base URL: written with /v2 or a trailing slash it is normalised; any other path is refused."""

from __future__ import annotations

import pytest

import sqlprovider
from sqlprovider.engine.attach import load_provider
from sqlprovider.http import normalize_api_url


@pytest.mark.parametrize(
    "written",
    [
        "https://api.digitalocean.com",
        "https://api.digitalocean.com/",
        "https://api.digitalocean.com/v2",
        "https://api.digitalocean.com/v2/",
        "  https://api.digitalocean.com/v2  ",
    ],
)
def test_the_common_ways_to_write_the_base_url_mean_the_same(written: str) -> None:
    assert normalize_api_url(written, path_prefix="/v2") == "https://api.digitalocean.com"


def test_the_prefix_comes_from_the_spec_paths() -> None:
    assert load_provider().path_prefix == "/v2"


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("https://api.digitalocean.com/v1", "'/v1'"),
        ("https://api.digitalocean.com/v2/droplets", "'/v2/droplets'"),
        ("https://api.digitalocean.com/api/v2", "'/api/v2'"),
        ("https://api.digitalocean.com/?page=2", "'?page=2'"),
        ("https://api.digitalocean.com/v2?x=1", "'?x=1'"),
        ("https://api.digitalocean.com#top", "'#top'"),
    ],
)
def test_any_other_path_or_query_is_refused_naming_it(written: str, named: str) -> None:
    with pytest.raises(sqlprovider.InterfaceError, match="without a path or query") as caught:
        normalize_api_url(written, path_prefix="/v2")
    assert named in str(caught.value)
    assert "https://api.digitalocean.com (a trailing /v2 is accepted" in str(caught.value)


def test_connect_refuses_a_path_before_anything_is_sent() -> None:
    with pytest.raises(sqlprovider.InterfaceError, match="'/v3'"):
        sqlprovider.connect(token="t", api_url="http://127.0.0.1:9/v3")


def test_a_refused_url_never_shows_credentials() -> None:
    with pytest.raises(sqlprovider.InterfaceError) as caught:
        normalize_api_url("ftp://user:dop_v1_secret@host/v2")
    assert "dop_v1_secret" not in str(caught.value)
