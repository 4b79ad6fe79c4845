"""Planning one row change from the spec's write declaration (pure: no SQLite, no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from sqlprovider.engine.attach import load_provider
from sqlprovider.engine.changes import UNSET, plan_change, render_body
from sqlprovider.errors import InvalidParameterError, NotSupportedError
from sqlprovider.spec import Check

PROVIDER = load_provider()
POLICIES = PROVIDER.resource("digitalocean.compute.droplet_backup_policies")
UPDATE = POLICIES.write("UPDATE")
SUPPORTED = {
    "daily": {"days": [], "hours": [0, 4, 8, 12, 16, 20]},
    "weekly": {
        "days": ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        "hours": [0, 4, 8, 12, 16, 20],
    },
}


def allowed(check: Check, row: Any) -> frozenset[Any]:
    plans = [row["backup_policy_plan"]] if row.get("backup_policy_plan") else list(SUPPORTED)
    if check.values == "name":
        return frozenset(SUPPORTED)
    field = "days" if check.values == "possible_days" else "hours"
    return frozenset(v for p in plans if p in SUPPORTED for v in SUPPORTED[p][field])


def old(
    enabled: bool, plan: str | None = None, weekday: str | None = None, hour: int | None = None
) -> dict[str, Any]:
    row = {c.name: None for c in POLICIES.columns}
    row.update(
        droplet_id=7,
        backup_enabled=int(enabled),
        backup_policy_plan=plan,
        backup_policy_weekday=weekday,
        backup_policy_hour=hour,
    )
    return row


def new(**given: Any) -> dict[str, Any]:
    return {c.name: given.get(c.name, UNSET) for c in POLICIES.columns}


def test_the_update_of_policies_is_declared_in_the_spec() -> None:
    assert UPDATE is not None
    assert UPDATE.operation.verb == "POST"
    assert [t.action for t in UPDATE.transitions] == [
        "enable_backups",
        "change_backup_policy",
        "disable_backups",
    ]


@pytest.mark.parametrize(
    ("before", "given", "action", "body"),
    [
        (old(False), {"backup_enabled": 1}, "enable_backups", {"type": "enable_backups"}),
        (
            old(True, "daily", None, 4),
            {"backup_enabled": 0},
            "disable_backups",
            {"type": "disable_backups"},
        ),
        (
            old(True, "daily", None, 4),
            {"backup_policy_plan": "weekly", "backup_policy_weekday": "MON"},
            "change_backup_policy",
            {
                "type": "change_backup_policy",
                "backup_policy": {"plan": "weekly", "weekday": "MON", "hour": 4},
            },
        ),
        (
            # The weekday a daily plan has no use for is left out, not refused.
            old(True, "weekly", "SUN", 8),
            {"backup_policy_plan": "daily"},
            "change_backup_policy",
            {"type": "change_backup_policy", "backup_policy": {"plan": "daily", "hour": 8}},
        ),
    ],
)
def test_the_transition_decides_the_action_and_body(
    before: Any, given: Any, action: str, body: Any
) -> None:
    change = plan_change(POLICIES, UPDATE, before, new(**given), allowed)  # type: ignore[arg-type]
    assert change is not None
    assert (change.action, change.verb, change.path, change.body) == (
        action,
        "POST",
        "/v2/droplets/7/actions",
        body,
    )
    assert change.key_text == "droplet_id=7"


@pytest.mark.parametrize(
    ("before", "given"),
    [
        (old(False), {"backup_enabled": 0}),
        (old(True, "daily", None, 4), {"backup_enabled": 1, "backup_policy_plan": "daily"}),
        (old(False), {"backup_policy_hour": 4}),
    ],
)
def test_a_row_already_as_asked_plans_no_call(before: Any, given: Any) -> None:
    assert plan_change(POLICIES, UPDATE, before, new(**given), allowed) is None  # type: ignore[arg-type]


def test_unsettable_columns_are_refused_by_name() -> None:
    with pytest.raises(
        NotSupportedError, match="cannot set backup_policy_window_length_hours, droplet_id"
    ):
        plan_change(
            POLICIES,
            UPDATE,
            old(True),
            new(droplet_id=8, backup_policy_window_length_hours=2),
            allowed,
        )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "given",
    [
        {"backup_policy_hour": 3},
        {"backup_policy_hour": "4"},
        {"backup_enabled": 2},
        {"backup_policy_weekday": "SUN"},
    ],
)
def test_values_outside_the_supported_policies_are_refused(given: Any) -> None:
    with pytest.raises(InvalidParameterError, match="nothing was sent"):
        plan_change(POLICIES, UPDATE, old(True, "daily", None, 4), new(**given), allowed)  # type: ignore[arg-type]


def test_render_body_drops_nulls_and_empty_objects() -> None:
    template = {"type": "x", "policy": {"a": "$a", "b": "$b"}, "keep": 0}
    assert render_body(template, {"a": None, "b": None}) == {"type": "x", "keep": 0}
    assert render_body(template, {"a": 1}) == {"type": "x", "policy": {"a": 1}, "keep": 0}
