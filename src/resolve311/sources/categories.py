"""Shared service categories: which complaint types of each city count as "potholes", "noise", ...

The mapping is data a user can edit: ``categories.toml`` in this package, overridden category by
category by ``HOME/categories.toml`` (docs/dashboard.md "Comparing cities"). Pure lookups here;
the cross-city computation is in ``web/crosscity.py``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from resolve311.errors import ConfigError

_FIXED_KEYS = frozenset({"label", "note"})


@dataclass(frozen=True)
class Category:
    """One shared category and, per city, the complaint types (or ``Prefix*`` patterns) it holds."""

    key: str
    label: str
    note: str = ""
    types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def matches(self, city: str, complaint_type: str) -> bool:
        """Whether ``complaint_type`` of ``city`` belongs here (case-insensitive; ``*`` = prefix)."""
        wanted = complaint_type.strip().casefold()
        for pattern in self.types.get(city, ()):
            p = pattern.strip().casefold()
            if wanted == p or (p.endswith("*") and wanted.startswith(p[:-1])):
                return True
        return False


def _category(key: str, value: Any, origin: str) -> Category:
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: [{key}] must be a table with label and per-city type lists")
    types: dict[str, tuple[str, ...]] = {}
    for city, names in value.items():
        if city in _FIXED_KEYS:
            continue
        if (
            isinstance(names, str)
            or not isinstance(names, list)
            or not all(isinstance(n, str) for n in names)
        ):
            raise ConfigError(f"{origin}: [{key}] {city} must be a list of complaint types")
        types[str(city)] = tuple(names)
    return Category(key, str(value.get("label", key)), str(value.get("note", "")), types)


def parse_categories(text: str, origin: str) -> dict[str, Category]:
    """Categories from one TOML text (ConfigError naming ``origin`` when malformed)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: invalid TOML: {exc}") from None
    return {key: _category(key, value, origin) for key, value in data.items()}


def load_categories(user_file: Path | None = None) -> tuple[Category, ...]:
    """The shipped categories, each replaced or added to by ``user_file`` when it exists."""
    shipped = resources.files("resolve311.sources").joinpath("categories.toml").read_text(encoding="utf-8")
    found = parse_categories(shipped, "builtin categories.toml")
    if user_file is not None and user_file.is_file():
        found |= parse_categories(user_file.read_text(encoding="utf-8"), str(user_file))
    return tuple(found.values())


def category_of(categories: tuple[Category, ...], city: str, complaint_type: str) -> Category | None:
    """The first category holding ``complaint_type`` of ``city`` (None: in no category)."""
    return next((c for c in categories if c.matches(city, complaint_type)), None)
