"""A list's pages never repeat an identity, whatever form the check keeps them in (engine.identities)."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from sqlprovider.engine.identities import Identities
from sqlprovider.engine.plan import plan_calls
from sqlprovider.errors import ListChangedError
from sqlprovider.spec import Provider, Resource, load_providers


@pytest.fixture(scope="module")
def provider() -> Provider:
    return load_providers()[0]


def _identities(provider: Provider, name: str = "compute.droplets") -> Identities:
    resource: Resource = provider.resource(f"digitalocean.{name}")
    call = plan_calls(resource, [], [], 200)[0]
    return Identities(resource, call)


def _page(ids: list[Any]) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"d{i}"} for i in ids]


def _pages(count: int, per_page: int = 200, gap: int = 997) -> list[list[int]]:
    ids = [300_000_000 + gap * n for n in range(count * per_page)]
    return [ids[n * per_page : (n + 1) * per_page] for n in range(count)]


@pytest.mark.parametrize("order", ["ascending", "descending"])
def test_a_repeat_of_a_far_earlier_page_is_refused_in_an_ordered_list(
    provider: Provider, order: str
) -> None:
    pages = _pages(30)
    if order == "descending":
        pages = [list(reversed(p)) for p in reversed(pages)]
    identities = _identities(provider)
    for number, ids in enumerate(pages[:29], start=1):
        identities.add(number, _page(ids))
    last = pages[29][:199] + [pages[2][17]]  # one record of page 3 again
    with pytest.raises(ListChangedError, match=f"id {pages[2][17]} again .first seen on page 3"):
        identities.add(30, _page(last))


def test_a_page_served_twice_is_refused(provider: Provider) -> None:
    pages = _pages(3)
    identities = _identities(provider)
    identities.add(1, _page(pages[0]))
    identities.add(2, _page(pages[1]))
    with pytest.raises(ListChangedError, match="first seen on page 1"):
        identities.add(3, _page(pages[0]))


def test_a_repeat_within_one_page_is_refused(provider: Provider) -> None:
    identities = _identities(provider)
    with pytest.raises(ListChangedError, match="id 5 again .first seen on page 1"):
        identities.add(1, _page([4, 5, 6, 5]))


def test_interleaved_pages_without_a_repeat_pass_and_a_later_repeat_is_still_refused(
    provider: Provider,
) -> None:
    identities = _identities(provider)
    identities.add(1, _page([10, 30, 50]))
    identities.add(2, _page([20, 40, 60]))  # ranges meet: the check moves to a dict
    identities.add(3, _page([70, 80]))
    with pytest.raises(ListChangedError, match="id 30 again .first seen on page 1"):
        identities.add(4, _page([90, 30]))


def test_a_repeat_on_a_page_whose_range_spans_several_kept_pages_is_refused(
    provider: Provider,
) -> None:
    identities = _identities(provider)
    identities.add(1, _page([1, 2, 3]))
    identities.add(2, _page([10, 11, 12]))
    identities.add(3, _page([20, 21]))
    with pytest.raises(ListChangedError, match="id 11 again .first seen on page 2"):
        identities.add(4, _page([0, 11, 30]))


@pytest.mark.parametrize(
    "ids",
    [["a", "b"], [1, 2**70], [1, None], [True, 2]],
    ids=["text", "beyond-64-bits", "absent", "bool"],
)
def test_identities_that_are_not_small_whole_numbers_are_checked_all_the_same(
    provider: Provider, ids: list[Any]
) -> None:
    identities = _identities(provider)
    identities.add(1, _page(ids))
    identities.add(2, _page(["c", 7]))
    repeated = next(i for i in ids if i is not None)
    with pytest.raises(ListChangedError, match="again .first seen on page 1"):
        identities.add(3, _page([repeated]))


def test_absent_identities_are_not_repeats(provider: Provider) -> None:
    identities = _identities(provider)
    identities.add(1, _page([None, 1]))
    identities.add(2, _page([None, 2]))


def test_the_first_page_is_remembered_in_order(provider: Provider) -> None:
    identities = _identities(provider)
    identities.add(1, _page([3, 1, 2]))
    identities.add(2, _page([4]))
    assert identities.first == [3, 1, 2]


def test_an_ordered_list_costs_a_few_bytes_a_record(provider: Provider) -> None:
    pages = _pages(100)  # 20,000 ids
    identities = _identities(provider)
    records = [_page(ids) for ids in pages]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number, page in enumerate(records, start=1):
            identities.add(number, page)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 8 * 20_000  # a dict of the ints held about 90 bytes each
