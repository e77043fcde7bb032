"""Where requests happen: zip codes with borough, board, coordinates and streets (data/places.csv)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PLACES_CSV = Path(__file__).parent / "data" / "places.csv"


@dataclass(frozen=True)
class Places:
    """Column arrays of the places table; streets flattened with per-place offsets."""

    zip: list[str]
    borough: list[str]
    city: list[str]
    community_board: list[str | None]
    council_district: list[str | None]
    police_precinct: list[str | None]
    lat: np.ndarray
    lon: np.ndarray
    lat_sd: np.ndarray
    lon_sd: np.ndarray
    weight: np.ndarray
    streets: list[str]
    street_offset: np.ndarray
    street_count: np.ndarray

    def __len__(self) -> int:
        return len(self.zip)


def _blank_to_none(value: str) -> str | None:
    return value or None


@lru_cache(maxsize=1)
def load_places(path: Path = PLACES_CSV) -> Places:
    """Read the places table (cached)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    streets: list[str] = []
    offsets, counts = [], []
    for row in rows:
        names = [s for s in row["streets"].split("|") if s]
        offsets.append(len(streets))
        counts.append(len(names))
        streets.extend(names)

    def floats(key: str) -> np.ndarray:
        return np.array([float(r[key]) for r in rows])

    return Places(
        zip=[r["zip"] for r in rows],
        borough=[r["borough"] for r in rows],
        city=[r["city"] for r in rows],
        community_board=[_blank_to_none(r["community_board"]) for r in rows],
        council_district=[_blank_to_none(r["council_district"]) for r in rows],
        police_precinct=[_blank_to_none(r["police_precinct"]) for r in rows],
        lat=floats("lat"),
        lon=floats("lon"),
        lat_sd=np.clip(floats("lat_sd"), 0.002, 0.015),
        lon_sd=np.clip(floats("lon_sd"), 0.002, 0.015),
        weight=floats("weight") + 2.0,
        streets=streets,
        street_offset=np.array(offsets, dtype=np.int64),
        street_count=np.array(counts, dtype=np.int64),
    )
