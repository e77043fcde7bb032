"""The source catalog: which Socrata datasets make up a city's 311 data, and how its fields map.

A source is data, not code: each one is a TOML file (``catalogs/<name>.toml`` in
this package, or ``$RESOLVE311_HOME/sources/<name>.toml`` to add or override a
city). See docs/pipeline.md for the file format.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from resolve311.errors import ConfigError
from resolve311.sources.city import (
    Area,
    BBox,
    CityRules,
    parse_areas,
    parse_bbox,
    parse_population,
    text_tuple,
)


@dataclass(frozen=True)
class Dataset:
    """One Socrata dataset holding the source's requests created in [created_from, created_until)."""

    id: str
    created_from: date | None = None
    created_until: date | None = None

    def overlaps(self, since: date | None, until: date | None) -> bool:
        """Whether this dataset can hold requests created in [since, until)."""
        if until is not None and self.created_from is not None and until <= self.created_from:
            return False
        return not (since is not None and self.created_until is not None and since >= self.created_until)


@dataclass(frozen=True)
class Source:
    """A logical source of 311 requests: one city, one or more datasets split by created date."""

    name: str
    datasets: tuple[Dataset, ...]
    display_name: str = ""  # how people call the city ("New York City"); empty: the name
    domain: str = "https://data.cityofnewyork.us"
    timezone: str = "America/New_York"
    key_field: str = "unique_key"
    created_field: str = "created_date"
    field_map: Mapping[str, str] = field(default_factory=dict)
    agency_field: str = "agency"  # the source field naming the agency (mapped onto ``agency``)
    closed_statuses: tuple[str, ...] = ("Closed",)
    cancelled_statuses: tuple[str, ...] = ()
    duplicate_statuses: tuple[str, ...] = ()
    duplicate_field: str | None = None  # a field whose true value marks a duplicate report
    bbox: BBox | None = None
    areas: tuple[Area, ...] = ()
    population: int | None = None  # residents, for rates per 100k (cite the estimate in the catalog)

    @property
    def main_area(self) -> Area | None:
        """The first area dimension: the one the metrics break down by (None: the city declares none)."""
        return self.areas[0] if self.areas else None

    @property
    def title(self) -> str:
        """The city's display name (``display_name``, else ``name``)."""
        return self.display_name or self.name

    @property
    def rules(self) -> CityRules:
        """What normalisation needs to know about this city."""
        return CityRules(
            closed_statuses=self.closed_statuses,
            cancelled_statuses=self.cancelled_statuses,
            duplicate_statuses=self.duplicate_statuses,
            duplicate_field=self.duplicate_field,
            bbox=self.bbox,
            has_borough=any(area.column == "borough" for area in self.areas),
        )

    def dataset(self, dataset_id: str) -> Dataset:
        """The dataset with this id (ConfigError when it is not part of the source)."""
        for ds in self.datasets:
            if ds.id == dataset_id:
                return ds
        raise ConfigError(f"dataset {dataset_id!r} is not part of source {self.name!r}")


def _as_date(value: Any, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: not a date: {value!r}") from None


def source_from_mapping(data: Mapping[str, Any], origin: str = "catalog") -> Source:
    """Build a Source from the parsed TOML of one catalog file."""
    try:
        datasets = tuple(
            Dataset(
                id=str(ds["id"]),
                created_from=_as_date(ds.get("created_from"), origin),
                created_until=_as_date(ds.get("created_until"), origin),
            )
            for ds in data["datasets"]
        )
        name = str(data["name"])
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{origin}: missing {exc} in source definition") from None
    if not datasets:
        raise ConfigError(f"{origin}: source {name!r} lists no datasets")
    field_map = {str(k): str(v) for k, v in dict(data.get("field_map", {})).items()}
    agency_field = str(data.get("agency_field", Source.agency_field))
    key_field = str(data.get("key_field", Source.key_field))
    created_field = str(data.get("created_field", Source.created_field))
    for setting, name_there, ours in (
        ("agency_field", agency_field, "agency"),
        ("key_field", key_field, "unique_key"),
        ("created_field", created_field, "created_date"),
    ):
        _map_field(field_map, setting, name_there, ours, origin)
    return Source(
        name=name,
        datasets=datasets,
        display_name=str(data.get("display_name", "")),
        domain=str(data.get("domain", Source.domain)),
        timezone=str(data.get("timezone", Source.timezone)),
        key_field=key_field,
        created_field=created_field,
        field_map=field_map,
        agency_field=agency_field,
        closed_statuses=text_tuple(data.get("closed_statuses"), origin, Source.closed_statuses),
        cancelled_statuses=text_tuple(data.get("cancelled_statuses"), origin, ()),
        duplicate_statuses=text_tuple(data.get("duplicate_statuses"), origin, ()),
        duplicate_field=_optional_text(data.get("duplicate_field"), "duplicate_field", origin),
        bbox=parse_bbox(data.get("bbox"), origin),
        areas=parse_areas(data.get("areas"), field_map, origin),
        population=parse_population(data.get("population"), origin),
    )


def _optional_text(value: Any, key: str, origin: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{origin}: {key} must be a field name, got {value!r}")
    return value.strip()


def _map_field(field_map: dict[str, str], setting: str, field: str, ours: str, origin: str) -> None:
    """Make the field named by ``setting`` (e.g. ``key_field``) land in our column ``ours``.

    ConfigError when the field map sends it elsewhere. (Several names may land in one column:
    a portal's export and its API name the same field differently.)
    """
    if field_map.get(field, field) != ours:
        if field in field_map:
            raise ConfigError(f"{origin}: {setting} {field!r} is mapped to {field_map[field]!r}")
        field_map[field] = ours


def _builtin_texts() -> Iterable[tuple[str, str]]:
    folder = resources.files("resolve311.sources.catalogs")
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            yield f"builtin {entry.name}", entry.read_text(encoding="utf-8")


def _user_texts(folder: Path | None) -> Iterable[tuple[str, str]]:
    if folder is None or not folder.is_dir():
        return
    for path in sorted(folder.glob("*.toml")):
        yield str(path), path.read_text(encoding="utf-8")


def load_catalog(user_folder: Path | None = None) -> dict[str, Source]:
    """Every known source by name; files in ``user_folder`` add to or override the built-ins."""
    catalog: dict[str, Source] = {}
    for origin, text in [*_builtin_texts(), *_user_texts(user_folder)]:
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin}: invalid TOML: {exc}") from None
        source = source_from_mapping(parsed, origin)
        catalog[source.name] = source
    return catalog


@cache
def default_rules() -> CityRules:
    """The rules of the default source (the built-in ``nyc`` catalog), for callers that name none."""
    return load_catalog()["nyc"].rules


def get_source(name: str, user_folder: Path | None = None) -> Source:
    """The source called ``name`` (ConfigError listing the known ones otherwise)."""
    catalog = load_catalog(user_folder)
    if name not in catalog:
        known = ", ".join(sorted(catalog))
        raise ConfigError(f"unknown source {name!r} (known: {known})")
    return catalog[name]
