"""Parameter values are checked and normalised before anything is sent."""

from __future__ import annotations

import pytest

from sqlprovider.engine.params import normalize
from sqlprovider.errors import InvalidParameterError
from sqlprovider.spec import Provider, load_providers


@pytest.fixture(scope="module")
def provider() -> Provider:
    return load_providers()[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3164444, 3164444), ("3164444", 3164444), (7.0, 7), ("+12", 12), (2**63 - 1, 2**63 - 1)],
)
def test_droplet_id_accepts_whole_numbers_as_int_or_text(
    provider: Provider, value: object, expected: int
) -> None:
    resource = provider.resource("digitalocean.compute.droplet_backups")
    assert normalize(resource, resource.parameter("droplet_id"), value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        0,
        -5,
        1.5,
        "1/../../account",
        "1 ",
        " 1",
        "1\n",
        "0x10",
        "1e3",
        True,
        b"12",
        2**63,
        "%2F",
        "12#",
        "12?x=1",
    ],
)
def test_droplet_id_rejects_everything_else(provider: Provider, value: object) -> None:
    resource = provider.resource("digitalocean.compute.droplet_backups")
    with pytest.raises(InvalidParameterError) as caught:
        normalize(resource, resource.parameter("droplet_id"), value)
    message = str(caught.value)
    assert "droplet_id must be a whole number of at least 1" in message
    assert "droplet_id = 3164444" in message
    assert "Nothing was sent" in message
    assert caught.value.table == "digitalocean.compute.droplet_backups"


def test_uuid_is_validated_and_lowercased(provider: Provider) -> None:
    resource = provider.resource("digitalocean.databases.backups")
    parameter = resource.parameter("database_cluster_uuid")
    good = "9CC10173-E9EA-4176-9DBC-A4CEE4C4FF30"
    assert normalize(resource, parameter, good) == good.lower()
    for bad in ["9cc10173", good + "0", good.replace("-", ""), "../" + good, 5]:
        with pytest.raises(InvalidParameterError, match="must be a uuid"):
            normalize(resource, parameter, bad)


def test_per_page_bounds_and_enum(provider: Provider) -> None:
    droplets = provider.resource("digitalocean.compute.droplets")
    per_page = droplets.parameter("per_page")
    assert normalize(droplets, per_page, 200) == 200
    for bad in (0, 201):
        with pytest.raises(InvalidParameterError, match="from 1 to 200"):
            normalize(droplets, per_page, bad)
    with pytest.raises(InvalidParameterError, match="one of 'droplets', 'gpus'"):
        normalize(droplets, droplets.parameter("type"), "GPUS")
    with pytest.raises(InvalidParameterError, match="without control characters"):
        normalize(droplets, droplets.parameter("tag_name"), "a\nb")
