"""`spec.record.Record` behaves as the frozen dataclass it replaces (the spec model relies on it)."""

from __future__ import annotations

import dataclasses

import pytest

from sqlprovider.spec.model import Column, Parameter
from sqlprovider.spec.record import replace


def _parameter(**changes: object) -> Parameter:
    return Parameter("droplet_id", "path", "integer", "The Droplet.", **changes)  # type: ignore[arg-type]


def test_record_takes_positional_and_keyword_fields_and_fills_defaults() -> None:
    one = _parameter(minimum=1)
    assert (one.name, one.location, one.minimum, one.maximum, one.exact) == (
        "droplet_id",
        "path",
        1,
        None,
        True,
    )


def test_record_default_factory_gives_each_instance_its_own_value() -> None:
    assert _parameter().values_where == {}
    assert _parameter().values_where is not _parameter().values_where
    assert "values_where" not in vars(Parameter)


def test_record_refuses_missing_unknown_and_repeated_arguments() -> None:
    with pytest.raises(TypeError, match="missing required argument 'description'"):
        Parameter("droplet_id", "path", "integer")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected argument 'colour'"):
        _parameter(colour="red")
    with pytest.raises(TypeError, match="multiple values for 'name'"):
        _parameter(name="again")


def test_record_is_frozen() -> None:
    column = Column("id", "integer", "The id.", ("id",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        column.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del column.name


def test_record_compares_hashes_and_shows_its_fields_in_order() -> None:
    column = Column("id", "integer", "The id.", ("id",))
    same = Column(name="id", type="integer", description="The id.", path=("id",))
    assert column == same
    assert hash(column) == hash(same)
    assert column != replace(column, hidden=True)
    assert column != ("id", "integer", "The id.", ("id",))
    assert repr(column) == (
        "Column(name='id', type='integer', description='The id.', path=('id',), "
        "scope='record', hidden=False, parameter=None, matches=None)"
    )


def test_replace_changes_a_copy_only() -> None:
    column = Column("id", "integer", "The id.", ("id",))
    hidden = replace(column, hidden=True)
    assert hidden.hidden
    assert not column.hidden
    assert hidden.name == "id"
