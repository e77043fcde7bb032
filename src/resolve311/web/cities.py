"""The cities a dashboard serves: one read-only snapshot reader per city, and each city's catalog facts.

A single-city home (setting ``cities`` empty) serves its one city at today's URLs
(``/``, ``/agency``, ``/api/agencies``); a several-city home serves each city under
``/city/<name>/…`` and ``/api/<name>/…`` (docs/dashboard.md "Several cities").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from resolve311.errors import ConfigError
from resolve311.settings import Settings
from resolve311.sources.catalog import Source, get_source
from resolve311.web.snapshot import SnapshotReader

#: Path levels under /api that are not city names.
RESERVED: Final = frozenset({"openapi.json", "status", "metrics", "agencies", "cities", "compare"})


@dataclass(frozen=True)
class CityWeb:
    """One city as the dashboard sees it."""

    name: str
    reader: SnapshotReader
    source: Source | None  # its catalog entry (None: unknown to this install's catalog)
    prefix: str  # page path prefix: "" in a single-city home, else "/city/<name>"

    @property
    def title(self) -> str:
        return self.source.title if self.source else self.name

    @property
    def area_label(self) -> str:
        """The display name of the city's main area dimension ("Borough", "Community area")."""
        area = self.source.main_area if self.source else None
        return area.label if area else "Area"

    @property
    def area_plural(self) -> str:
        """``all …`` placeholder text: "boroughs", "community areas"."""
        label = self.area_label.lower()
        return label if label.endswith("s") else label + "s"

    @property
    def api_prefix(self) -> str:
        return f"/api/{self.name}" if self.prefix else "/api"

    def path(self, page: str = "") -> str:
        """The URL path of one of this city's pages ("" overview, "/agency", "/health")."""
        return (self.prefix + page) or "/"


def _source(name: str, user_folder: Path) -> Source | None:
    try:
        return get_source(name, user_folder)
    except ConfigError:
        return None


def city_webs(settings: Settings, reader: SnapshotReader | None = None) -> dict[str, CityWeb]:
    """Every city of the home, in the configured order (``reader`` replaces a single city's)."""
    folder = settings.home / "sources"
    if not settings.several_cities:
        name = settings.source
        return {
            name: CityWeb(name, reader or SnapshotReader(settings.snapshot_path), _source(name, folder), "")
        }
    out: dict[str, CityWeb] = {}
    for name in settings.city_names():
        if name in RESERVED or "/" in name:
            raise ConfigError(f"cities: {name!r} cannot be a city name in a URL")
        own = settings.for_city(name)
        out[name] = CityWeb(name, SnapshotReader(own.snapshot_path), _source(name, folder), f"/city/{name}")
    return out
