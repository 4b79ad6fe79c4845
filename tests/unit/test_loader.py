"""The spec loader: the bundled spec loads, and a broken spec reports every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlprovider.errors import SpecError
from sqlprovider.spec import load_providers

PROVIDER = """
provider: acme
description: A test provider.
api_url: http://127.0.0.1:1
token_env: [ACME_TOKEN]
pagination: {page_param: page, per_page_param: per_page, max_per_page: 50}
"""


def write_spec(root: Path, service_yaml: str) -> Path:
    folder = root / "acme"
    folder.mkdir()
    (folder / "provider.yaml").write_text(PROVIDER)
    (folder / "things.yaml").write_text(service_yaml)
    return root


def test_bundled_spec_declares_the_issue_tables() -> None:
    (provider,) = load_providers()
    names = {r.qualified_name for r in provider.resources()}
    # The tables issues asked for by name (a subset: adding a resource must not break this).
    assert {
        "digitalocean.compute.droplets",
        "digitalocean.compute.droplet_backups",
        "digitalocean.compute.droplet_backup_policies",
        "digitalocean.compute.droplet_supported_backup_policies",
        "digitalocean.databases.clusters",
        "digitalocean.databases.backups",
        "digitalocean.compute.snapshots",
        "digitalocean.compute.droplet_snapshots",
        "digitalocean.compute.volumes",
        "digitalocean.compute.volume_snapshots",
        "digitalocean.compute.images",
        "digitalocean.compute.droplet_actions",
        "digitalocean.compute.actions",
    } <= names
    backups = provider.resource("digitalocean.compute.droplet_backups")
    assert backups.required_parameters == ("droplet_id",)
    assert [c.name for c in backups.columns if c.hidden] == ["page", "per_page", "raw"]
    assert backups.column("droplet_id").parameter == "droplet_id"
    policies = provider.resource("digitalocean.compute.droplet_backup_policies")
    assert policies.required_parameters == ()  # the list method needs no key
    db_backups = provider.resource("digitalocean.databases.backups")
    assert not db_backups.is_paginated
    assert {"page", "per_page"}.isdisjoint(c.name for c in db_backups.columns)


def test_every_column_and_resource_has_a_description() -> None:
    (provider,) = load_providers()
    for resource in provider.resources():
        assert resource.description
        assert resource.examples
        for column in resource.columns:
            assert column.description, f"{resource.qualified_name}.{column.name}"


def test_broken_spec_lists_every_problem_with_file_and_key(tmp_path: Path) -> None:
    root = write_spec(
        tmp_path,
        """
service: things
description: Things.
resources:
  widgets:
    description: Widgets.
    colour: red
    parameters:
      widget_id: {in: body, type: integer, description: Id.}
    methods:
      list: {path: "/v1/widgets/{widget_id}/{missing}", records: widgets, shape: heap}
    columns:
      id: {type: decimal, description: Id.}
      raw: {type: json, description: Clash.}
""",
    )
    with pytest.raises(SpecError) as caught:
        load_providers(root)
    problems = "\n".join(caught.value.problems)
    assert "things.yaml: resources.widgets: unknown key 'colour'" in problems
    assert "parameters.widget_id.in: must be path or query" in problems
    assert "methods.list.shape: must be list, map or object" in problems
    assert "parameter 'missing' is not declared" in problems
    assert "columns.id.type: must be one of" in problems
    assert "columns.raw: the name is reserved" in problems
    assert "examples: needs at least one example" in problems
    assert len(caught.value.problems) >= 7


def test_values_from_must_name_a_real_column(tmp_path: Path) -> None:
    root = write_spec(
        tmp_path,
        """
service: things
description: Things.
resources:
  parts:
    description: Parts of one widget.
    parameters:
      widget_id: {in: path, type: integer, description: Id., values_from: [acme.things.nothing.id]}
    methods:
      list: {path: "/v1/widgets/{widget_id}/parts", records: parts}
    columns:
      id: {type: integer, description: Id.}
    examples:
      - {description: One., sql: SELECT 1}
""",
    )
    with pytest.raises(SpecError, match="values_from: no column acme.things.nothing.id"):
        load_providers(root)


IDENTITY_SPEC = """
service: things
description: Things.
resources:
  widgets:
    description: Widgets.
    identity: id
    methods:
      list: {path: /v1/widgets, records: widgets}
    columns:
      id: {type: integer, description: Id.}
    examples:
      - {description: One., sql: SELECT 1}
  parts:
    description: Parts of one widget.
    identity: [widget_id, IDENTITY]
    parameters:
      widget_id:
        in: path
        type: integer
        description: Id.
        values_from: [acme.things.widgets.id]
        values_where: {WHERE_TABLE: id > 1}
    methods:
      list: {path: "/v1/widgets/{widget_id}/parts", records: parts}
    columns:
      widget_id: {type: integer, description: Id.}
      made_at: {type: timestamp, description: When.}
    examples:
      - {description: One., sql: SELECT 1}
"""


def test_identity_may_name_several_columns_and_values_where_its_source(tmp_path: Path) -> None:
    text = IDENTITY_SPEC.replace("IDENTITY", "made_at").replace(
        "WHERE_TABLE", "acme.things.widgets"
    )
    (provider,) = load_providers(write_spec(tmp_path, text))
    parts = provider.resource("acme.things.parts")
    assert parts.identity == ("widget_id", "made_at")
    assert provider.resource("acme.things.widgets").identity == ("id",)
    assert parts.parameter("widget_id").values_where == {"acme.things.widgets": "id > 1"}


def test_identity_and_values_where_must_name_what_exists(tmp_path: Path) -> None:
    text = IDENTITY_SPEC.replace("IDENTITY", "nope").replace("WHERE_TABLE", "acme.things.other")
    with pytest.raises(SpecError) as caught:
        load_providers(write_spec(tmp_path, text))
    assert "identity: 'nope' is not a column" in str(caught.value)
    assert "values_where: acme.things.other is not in values_from" in str(caught.value)


def test_batch_with_must_pair_a_get_with_a_keyless_list(tmp_path: Path) -> None:
    root = write_spec(
        tmp_path,
        """
service: things
description: Things.
resources:
  parts:
    description: Parts.
    parameters:
      part_id: {in: path, type: integer, description: Id.}
    methods:
      get: {path: "/v1/parts/{part_id}", records: part, shape: object, batch_with: nowhere}
      others: {path: "/v1/parts/{part_id}/others", records: others, batch_with: get}
    columns:
      part_id: {type: integer, description: Id.}
    examples:
      - {description: One., sql: SELECT 1}
""",
    )
    with pytest.raises(SpecError) as caught:
        load_providers(root)
    problems = "\n".join(caught.value.problems)
    assert "methods.get.batch_with: 'nowhere' is not a method of this resource" in problems
    assert "methods.others.batch_with: only a get of one record by one path key" in problems


def test_a_write_naming_unknown_columns_and_tables_is_reported_with_its_key_path(
    tmp_path: Path,
) -> None:
    import shutil

    from sqlprovider.engine.attach import load_provider as _unused  # noqa: F401
    from sqlprovider.spec import default_spec_dir

    spec = tmp_path / "digitalocean"
    shutil.copytree(default_spec_dir() / "digitalocean", spec)
    compute = spec / "compute.yaml"
    text = compute.read_text()
    text = text.replace("settable: [backup_enabled,", "settable: [no_such_column, backup_enabled,")
    text = text.replace(
        "table: digitalocean.compute.droplet_supported_backup_policies, values: name}",
        "table: digitalocean.compute.nowhere, values: name}",
    )
    compute.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_providers(tmp_path)
    message = str(caught.value)
    assert "writes.update.settable: 'no_such_column' is not a column" in message
    assert "writes.update.checks: no table digitalocean.compute.nowhere" in message


def test_matches_leaves_out_empty_on_and_map_key_are_checked(tmp_path: Path) -> None:
    root = write_spec(
        tmp_path,
        """
service: things
description: Things.
resources:
  widgets:
    description: Widgets.
    parameters:
      tag: {in: query, type: string, description: Tag., matches: {column: name, as: element}}
      kind: {in: query, type: string, enum: [a, b], description: Kind., leaves_out: [{kind: c}]}
      colour: {in: query, type: string, description: Colour., matches: {column: nope}}
    methods:
      list:
        path: /v1/widgets
        records: widgets
        query: [tag, kind, colour]
        map_key: id
        empty_on: [{status: 200, notice: x}, {status: 422, notice: y}]
    columns:
      id: {type: integer, description: Id.}
      name: {type: text, description: Name.}
    examples:
      - {description: All., sql: SELECT * FROM acme.things.widgets}
""",
    )
    with pytest.raises(SpecError) as caught:
        load_providers(root)
    text = str(caught.value)
    assert "tag.matches: as element needs a json (array) column, not text" in text
    assert "colour.matches: 'nope' is not a record column" in text
    assert "kind.leaves_out[0]: needs matches and exact: false" in text
    assert "kind.leaves_out[0]: kind: c is not a value of a parameter" in text
    assert "list.map_key: names the field a map's keys hold, for shape: map only" in text
    assert "empty_on[0].status: a 4xx status, not 200" in text
    assert "empty_on[1]: needs id or message" in text


def test_the_bundled_tag_filter_is_completed_for_gpu_droplets() -> None:
    from sqlprovider.engine.plan import plan_calls

    (provider,) = load_providers()
    droplets = provider.resource("digitalocean.compute.droplets")
    calls = plan_calls(droplets, ["tag_name"], ["k8s"], 200)
    assert [c.query for c in calls] == [(("tag_name", "k8s"),), (("type", "gpus"),)]
    assert [c.echo["tag_name"] for c in calls] == ["k8s", "k8s"]
    assert [c.echo["type"] for c in calls] == ["droplets", "gpus"]
    policies = provider.resource("digitalocean.compute.droplet_backup_policies")
    listing = next(m for m in policies.methods if m.name == "list")
    assert (listing.map_key, listing.map_key_type) == ("droplet_id", "integer")


def test_the_provider_declares_its_rate_limits_and_scopes() -> None:
    (provider,) = load_providers()
    assert provider.rate_limits == ((250, 60.0), (5000, 3600.0))
    assert provider.scopes["read"] == ("droplet:read", "database:read")
    assert provider.scopes["write"] == ("droplet:update",)


def test_bad_rate_limits_and_scopes_are_reported(tmp_path: Path) -> None:
    root = write_spec(tmp_path, "service: things\ndescription: Things.\nresources: {}\n")
    head = root / "acme" / "provider.yaml"
    head.write_text(
        PROVIDER
        + "rate_limits:\n  - {requests: 0, seconds: 60}\n  - {per: minute}\n"
        + "scopes: {read: droplet:read, delete: [x]}\n"
    )
    with pytest.raises(SpecError) as caught:
        load_providers(root)
    problems = "\n".join(caught.value.problems)
    assert "rate_limits[0].requests: must be an integer >= 1" in problems
    assert "rate_limits[1]: must be a mapping of exactly requests and seconds" in problems
    assert "scopes.read: must be a list of scope names" in problems
    assert "scopes.delete: unknown action" in problems
