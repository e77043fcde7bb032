"""City facts a source declares: status vocabulary, bounding box, area dimensions.

These are plain values read from a catalog file (see docs/adding-a-city.md);
the warehouse and the metric layer ask the source for them instead of naming a
city themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from resolve311.errors import ConfigError
from resolve311.schema import SODA_FIELDS

#: (south, north, west, east) in degrees.
BBox: TypeAlias = tuple[float, float, float, float]


@dataclass(frozen=True)
class Area:
    """One area dimension a city reports by (NYC borough, Chicago ward, SF neighborhood)."""

    name: str  # the source's field name, as published (``community_area``)
    label: str  # display name (``Community area``)
    column: str | None = None  # the warehouse column that holds it; None: kept in ``extra``


@dataclass(frozen=True)
class CityRules:
    """What normalisation needs to know about a city (one value, passed to the staged query)."""

    #: A status starting with one of these words (any case) means closed.
    closed_statuses: tuple[str, ...] = ("Closed",)
    #: A status starting with one of these words (any case) means cancelled: closed without service.
    cancelled_statuses: tuple[str, ...] = ()
    #: A status starting with one of these words means closed as a duplicate of another request.
    duplicate_statuses: tuple[str, ...] = ()
    #: A field (as published) whose true value marks a duplicate report (Chicago's ``duplicate``).
    duplicate_field: str | None = None
    #: Coordinates outside this box are flagged ``outside_city``; None: no check.
    bbox: BBox | None = None
    #: The ``borough`` column holds one of the city's areas (only then ``unspecified_borough`` applies).
    has_borough: bool = False

    @property
    def ending_statuses(self) -> tuple[str, ...]:
        """Every status word that ends a request (closed, cancelled or duplicate)."""
        return (*self.closed_statuses, *self.cancelled_statuses, *self.duplicate_statuses)


def parse_bbox(value: Any, where: str) -> BBox | None:
    """A ``bbox = [south, north, west, east]`` value (ConfigError when malformed)."""
    if value is None:
        return None
    try:
        south, north, west, east = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: bbox must be [south, north, west, east], got {value!r}") from None
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ConfigError(f"{where}: bbox {value!r} is not south < north, west < east in degrees")
    return (south, north, west, east)


def parse_population(value: Any, where: str) -> int | None:
    """A ``population = 2664452`` value: a positive whole number (ConfigError otherwise)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}: population must be a positive whole number, got {value!r}")
    return value


def parse_areas(value: Any, field_map: Mapping[str, str], where: str) -> tuple[Area, ...]:
    """``[[areas]]`` tables: ``name`` and ``label``; the column follows the field map."""
    if value is None:
        return ()
    areas: list[Area] = []
    for entry in value:
        try:
            name, label = str(entry["name"]), str(entry["label"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{where}: an [[areas]] entry lacks {exc}") from None
        areas.append(Area(name=name, label=label, column=_column_for(name, field_map)))
    return tuple(areas)


def _column_for(name: str, field_map: Mapping[str, str]) -> str | None:
    column = field_map.get(name, name)
    return column if column in SODA_FIELDS else None


def text_tuple(value: Any, where: str, default: Sequence[str]) -> tuple[str, ...]:
    """A list of strings from TOML (the default when absent)."""
    if value is None:
        return tuple(default)
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)
