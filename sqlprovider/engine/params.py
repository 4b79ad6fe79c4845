"""Check and normalise a value for an API parameter before any request leaves the process.

`'3164444'` and `3164444` mean the same Droplet; `'abc'`, `0`, `-5`, `1.5` or `'1/../account'`
mean a mistake, reported with what the parameter accepts. Imports `spec` and `errors` only.
"""

from __future__ import annotations

import re
from typing import Any

from sqlprovider.errors import InvalidParameterError
from sqlprovider.spec import Parameter, Resource

_INTEGER = re.compile(r"[+]?[0-9]+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INT64_MAX = 2**63 - 1


def normalize(resource: Resource, parameter: Parameter, value: Any) -> int | str:
    """Return `value` as the API expects it, or raise with what would be accepted.

    Raises:
        InvalidParameterError: the value does not fit the parameter's type, bounds, enum or format.
    """
    if parameter.type == "integer":
        return _integer(resource, parameter, value)
    if parameter.type == "boolean":
        return _boolean(resource, parameter, value)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _invalid(resource, parameter, value, "text")
    text = str(value)
    if parameter.format == "uuid":
        lowered = text.lower()
        if not _UUID.fullmatch(lowered):
            raise _invalid(resource, parameter, value, "a uuid")
        return lowered
    if parameter.enum and text not in parameter.enum:
        raise _invalid(resource, parameter, value, "one of " + ", ".join(map(repr, parameter.enum)))
    if any(ord(ch) < 32 for ch in text):
        raise _invalid(resource, parameter, value, "text without control characters")
    return text


_TRUE = {1, "1", "true", "TRUE", "True"}
_FALSE = {0, "0", "false", "FALSE", "False"}


def _boolean(resource: Resource, parameter: Parameter, value: Any) -> int:
    """1 or 0 (SQLite's true and false); `enum` may allow only one of them."""
    number: int | None = None
    if isinstance(value, (int, str)) and not isinstance(value, float):
        number = 1 if value in _TRUE else 0 if value in _FALSE else None
    allowed = [int(v.lower() == "true") for v in parameter.enum if v.lower() in ("true", "false")]
    if number is None or (allowed and number not in allowed):
        wanted = " or ".join("true (1)" if a else "false (0)" for a in allowed or [1, 0])
        raise _invalid(resource, parameter, value, wanted)
    return number


def wire_value(parameter: Parameter, value: int | str) -> int | str:
    """The value as the query string carries it (booleans as `true`/`false`)."""
    if parameter.type == "boolean":
        return "true" if value else "false"
    return value


def _integer(resource: Resource, parameter: Parameter, value: Any) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and _INTEGER.fullmatch(value)
    ):
        number = int(value)
    low, high = parameter.minimum, parameter.maximum
    if (
        number is None
        or number > _INT64_MAX
        or (low is not None and number < low)
        or (high is not None and number > high)
    ):
        bounds = "a whole number"
        if low is not None and high is not None:
            bounds += f" from {low} to {high}"
        elif low is not None:
            bounds += f" of at least {low}"
        raise _invalid(resource, parameter, value, bounds)
    return number


def _invalid(
    resource: Resource, parameter: Parameter, value: Any, wanted: str
) -> InvalidParameterError:
    example = (
        f" (for example {parameter.name} = {parameter.example!r})" if parameter.example else ""
    )
    return InvalidParameterError(
        f"{resource.qualified_name}: {parameter.name} must be {wanted}{example}, not {value!r}. "
        "Nothing was sent to the API.",
        table=resource.qualified_name,
        column=parameter.name,
    )
