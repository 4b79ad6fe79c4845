"""The provider specification: the model of resources and the loader of `provider_spec/`."""

from __future__ import annotations

from sqlprovider.spec.loader import default_spec_dir, load_providers
from sqlprovider.spec.model import (
    RAW_COLUMN,
    AccountInfo,
    Column,
    Example,
    Match,
    Method,
    Operation,
    Pagination,
    Parameter,
    Provider,
    Recipe,
    RecipeParameter,
    Resource,
    Service,
)
from sqlprovider.spec.write_model import Check, Confirm, Transition, Wait, Write

__all__ = [
    "RAW_COLUMN",
    "Check",
    "AccountInfo",
    "Column",
    "Confirm",
    "Example",
    "Match",
    "Method",
    "Operation",
    "Pagination",
    "Parameter",
    "Provider",
    "Recipe",
    "RecipeParameter",
    "Resource",
    "Service",
    "Transition",
    "Wait",
    "Write",
    "default_spec_dir",
    "load_providers",
]
