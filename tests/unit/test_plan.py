"""Pushdown planning: which constraints go to the API, and which calls follow from them."""

from __future__ import annotations

import pytest

from sqlprovider.engine.plan import OP_EQ, Offer, plan_calls, plan_index
from sqlprovider.errors import InvalidParameterError, MissingKeyColumnError
from sqlprovider.spec import Provider, Resource, load_providers

OP_GT = 4


@pytest.fixture(scope="module")
def provider() -> Provider:
    return load_providers()[0]


def table(provider: Provider, name: str) -> Resource:
    return provider.resource(f"digitalocean.{name}")


def test_required_key_never_mentioned_raises_a_helpful_error(provider: Provider) -> None:
    backups = table(provider, "compute.droplet_backups")
    with pytest.raises(MissingKeyColumnError) as caught:
        plan_index(backups, [Offer("droplet_id", OP_GT, True), Offer("name", OP_EQ, True)])
    message = str(caught.value)
    assert "digitalocean.compute.droplet_backups needs droplet_id" in message
    assert "WHERE droplet_id = 3164444" in message
    assert "digitalocean.compute.droplets" in message  # the table that can supply it
    assert caught.value.column == "droplet_id"


def test_required_key_only_in_another_join_order_refuses_this_plan(provider: Provider) -> None:
    backups = table(provider, "compute.droplet_backups")
    assert plan_index(backups, [Offer("droplet_id", OP_EQ, False)]) is None


def test_usable_key_is_passed_omitted_and_as_a_set(provider: Provider) -> None:
    backups = table(provider, "compute.droplet_backups")
    plan = plan_index(
        backups,
        [
            Offer("name", OP_EQ, True),
            Offer("droplet_id", OP_EQ, True, can_in=True),
            Offer("per_page", OP_EQ, True),
        ],
    )
    assert plan is not None
    assert plan.idx_str == "droplet_id,per_page"
    assert [(u.offer, u.omit, u.as_set) for u in plan.uses] == [(1, True, True), (2, True, False)]


def test_keyed_plans_are_much_cheaper_than_list_scans(provider: Provider) -> None:
    policies = table(provider, "compute.droplet_backup_policies")
    keyed = plan_index(policies, [Offer("droplet_id", OP_EQ, True)])
    scan = plan_index(policies, [Offer("droplet_id", OP_EQ, False)])
    assert keyed is not None
    assert scan is not None
    assert keyed.cost * 1000 < scan.cost
    assert scan.idx_str == ""


def test_inexact_filter_is_pushed_but_rechecked_by_sqlite(provider: Provider) -> None:
    droplets = table(provider, "compute.droplets")
    plan = plan_index(droplets, [Offer("name", OP_EQ, True)])
    assert plan is not None
    assert plan.uses[0].omit is False


def test_conflicting_parameters_push_only_the_first_declared(provider: Provider) -> None:
    droplets = table(provider, "compute.droplets")
    offers = [
        Offer("name", OP_EQ, True),
        Offer("tag_name", OP_EQ, True),
        Offer("type", OP_EQ, True),
    ]
    plan = plan_index(droplets, offers)
    assert plan is not None
    assert plan.idx_str == "tag_name"


def test_policies_use_the_per_droplet_get_when_keyed(provider: Provider) -> None:
    policies = table(provider, "compute.droplet_backup_policies")
    (one,) = plan_calls(policies, ["droplet_id"], ["42"], 200)
    assert one.path == "/v2/droplets/42/backups/policy"
    assert one.page is None
    (listing,) = plan_calls(policies, [], [], 200)
    assert listing.path == "/v2/droplets/backups/policies"
    assert (listing.page, listing.per_page) == (None, 200)


def test_in_set_fans_out_one_call_per_distinct_value(provider: Provider) -> None:
    backups = table(provider, "compute.droplet_backups")
    calls = plan_calls(backups, ["droplet_id"], [{3, "3", 1, None}], 200)
    assert [c.path for c in calls] == ["/v2/droplets/1/backups", "/v2/droplets/3/backups"]
    assert [c.echo["droplet_id"] for c in calls] == [1, 3]


def test_null_key_means_no_call(provider: Provider) -> None:
    backups = table(provider, "compute.droplet_backups")
    assert plan_calls(backups, ["droplet_id"], [None], 200) == []


def test_unconstrained_droplets_list_both_types(provider: Provider) -> None:
    droplets = table(provider, "compute.droplets")
    calls = plan_calls(droplets, [], [], 200)
    assert [dict(c.query) for c in calls] == [{"type": "droplets"}, {"type": "gpus"}]
    assert [c.echo["type"] for c in calls] == ["droplets", "gpus"]
    (gpus,) = plan_calls(droplets, ["type"], ["gpus"], 200)
    assert dict(gpus.query) == {"type": "gpus"}


def test_tag_filter_cannot_be_combined_with_type(provider: Provider) -> None:
    droplets = table(provider, "compute.droplets")
    tagged, gpus = plan_calls(droplets, ["tag_name"], ["prod"], 200)
    assert dict(tagged.query) == {"tag_name": "prod"}
    assert tagged.echo["type"] == "droplets"  # what the API returns without a type
    # The tag filter leaves GPU Droplets out: they are listed apart, never with the tag.
    assert dict(gpus.query) == {"type": "gpus"}
    assert gpus.echo == {**tagged.echo, "type": "gpus"}


def test_page_and_per_page_are_exact(provider: Provider) -> None:
    backups = table(provider, "compute.droplet_backups")
    (call,) = plan_calls(backups, ["droplet_id", "page", "per_page"], [5, 3, 7], 200)
    assert (call.page, call.per_page) == (3, 7)
    assert call.echo["page"] == 3
    assert call.echo["per_page"] == 7
    with pytest.raises(
        InvalidParameterError, match="per_page must be a whole number from 1 to 200"
    ):
        plan_calls(backups, ["droplet_id", "per_page"], [5, 500], 200)


def test_values_are_percent_encoded_in_paths(provider: Provider) -> None:
    db_backups = table(provider, "databases.backups")
    uuid = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"
    (call,) = plan_calls(db_backups, ["database_cluster_uuid"], [uuid.upper()], 200)
    assert call.path == f"/v2/databases/{uuid}/backups"
    assert call.page is None
    assert call.per_page is None


def test_a_boolean_filter_is_sent_as_true_and_a_renamed_one_under_its_api_name(
    provider: Provider,
) -> None:
    images = provider.resource("digitalocean.compute.images")
    (call,) = plan_calls(images, ["private", "list_type"], [1, "distribution"], 200)
    assert dict(call.query) == {"private": "true", "type": "distribution"}
    assert call.echo["private"] == 1  # SQLite sees 1, the API reads true
    (call,) = plan_calls(images, ["private"], ["true"], 200)
    assert dict(call.query) == {"private": "true"}


def test_a_boolean_filter_the_api_cannot_apply_is_refused_before_sending(
    provider: Provider,
) -> None:
    images = provider.resource("digitalocean.compute.images")
    with pytest.raises(InvalidParameterError, match=r"private must be true \(1\)"):
        plan_calls(images, ["private"], [0], 200)
    with pytest.raises(InvalidParameterError, match="one of 'application', 'distribution'"):
        plan_calls(images, ["list_type"], ["snapshot"], 200)


def test_actions_use_the_keyed_get_when_id_is_given(provider: Provider) -> None:
    actions = provider.resource("digitalocean.compute.actions")
    assert actions.required_parameters == ()
    (call,) = plan_calls(actions, ["id"], [36804636], 200)
    assert call.path == "/v2/actions/36804636"
    (listing,) = plan_calls(actions, [], [], 200)
    assert listing.path == "/v2/actions"
