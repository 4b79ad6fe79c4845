"""`Record`: the frozen value class of the spec model, built without generating code.

A frozen dataclass writes and compiles six methods per class when its module is imported;
for the twenty classes of the spec that was about a tenth of `sqlprovider query`'s start. A
`Record` subclass declares its fields the same way (annotations, defaults, `field(
default_factory=...)`) and behaves as a frozen dataclass does: positional or keyword
construction, `repr`, `==` and `hash` over the fields, assignment refused with
`FrozenInstanceError`, and `replace` for a changed copy. Type checkers see it as a dataclass
(PEP 681). Imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, dataclass_transform

_R = TypeVar("_R", bound="Record")
_T = TypeVar("_T")
#: A field without a default.
_REQUIRED = object()


class _Factory:
    """A default made afresh for each instance (`field(default_factory=dict)`)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], _T]) -> _T:
    """A field whose default is made for each instance, as `dataclasses.field` does."""
    return _Factory(default_factory)  # type: ignore[return-value]  # read by Record, not used


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    """Base of the spec's value classes: fields from the annotations, frozen once built."""

    __slots__ = ()
    #: The field names, in order (the base class's first).
    _fields: ClassVar[tuple[str, ...]] = ()
    #: Each field's default, in field order: a value, a `_Factory`, or `_REQUIRED`.
    _defaults: ClassVar[dict[str, Any]] = {}
    #: The fields whose default is not a value (required, or made per instance).
    _unready: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        defaults = dict(cls._defaults)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            default = cls.__dict__.get(name, _REQUIRED)
            if isinstance(default, _Factory):
                delattr(cls, name)  # as dataclasses do: no shared default on the class
            defaults.pop(name, None)
            defaults[name] = default
        cls._defaults = defaults
        cls._fields = tuple(defaults)
        cls._unready = tuple(
            name
            for name, value in defaults.items()
            if value is _REQUIRED or type(value) is _Factory
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Dict operations (in C) rather than a loop over the fields: the loader makes hundreds.
        names = self._fields
        state = self._defaults.copy()
        if args:
            if len(args) > len(names):
                raise TypeError(
                    f"{type(self).__name__}() takes {len(names)} arguments but {len(args)} "
                    "were given"
                )
            given = names[: len(args)]
            for name in kwargs.keys() & given:
                raise TypeError(f"{type(self).__name__}() got multiple values for {name!r}")
            state.update(zip(given, args, strict=True))
        state.update(kwargs)
        if len(state) > len(names):
            unknown = next(name for name in kwargs if name not in self._defaults)
            raise TypeError(f"{type(self).__name__}() got an unexpected argument {unknown!r}")
        for name in self._unready:
            value = state[name]
            if value is _REQUIRED:
                raise TypeError(f"{type(self).__name__}() missing required argument {name!r}")
            if type(value) is _Factory:
                state[name] = value.make()
        object.__setattr__(self, "__dict__", state)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return tuple(self.__dict__.values()) == tuple(other.__dict__.values())

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")


def replace(record: _R, **changes: Any) -> _R:
    """A copy of `record` with some fields changed (as `dataclasses.replace`)."""
    return type(record)(**{**record.__dict__, **changes})
