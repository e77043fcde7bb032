"""The shared service categories: the shipped mapping, user overrides, real type names."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from helpers import open_real_text
from resolve311.errors import ConfigError
from resolve311.sources.catalog import load_catalog
from resolve311.sources.categories import category_of, load_categories

REAL = Path(__file__).parents[2] / "fixtures" / "real"
SIMULATED = Path(__file__).parents[3] / "src" / "resolve311" / "simulator" / "data" / "cities"


def test_the_shipped_mapping_names_only_known_cities() -> None:
    categories = load_categories()
    known = set(load_catalog())
    assert len(categories) >= 9
    for c in categories:
        assert c.label and set(c.types) <= known, c.key


def real_types(name: str, column: str) -> set[str]:
    with open_real_text((SIMULATED if name.endswith("_types.csv") else REAL) / name) as fh:
        return {row[column] for row in csv.DictReader(fh) if row.get(column)}


@pytest.mark.parametrize(
    ("city", "file", "column", "expected"),
    [
        ("nyc", "soda-csv_erm2-nwe9_2024-04-16.csv", "complaint_type",
         {"Noise - Residential": "noise", "Street Light Condition": "street_lights", "Rodent": "rodents",
          "Graffiti": "graffiti", "Abandoned Vehicle": "abandoned_vehicles", "New Tree Request": "trees"}),
        ("chicago", "chicago_soda-csv_v6vf-nfxy_2026-08-01_sample24.csv", "sr_type",
         {"Graffiti Removal Request": "graffiti", "Aircraft Noise Complaint": "noise",
          "Abandoned Vehicle Complaint": "abandoned_vehicles", "Water On Street Complaint": "water_sewer",
          "Garbage Cart Maintenance": "missed_collection", "Tree Emergency": "trees"}),
        ("chicago", "chicago_types.csv", "sr_type",  # the simulated Chicago's type mix
         {"Pothole in Street Complaint": "potholes", "Street Light Out Complaint": "street_lights",
          "Rodent Baiting/Rat Complaint": "rodents", "Tree Trim Request": "trees",
          "Sewer Cleaning Inspection Request": "water_sewer", "Street Cleaning Request": "street_cleaning"}),
        ("sf", "sf_soda-csv_vw6y-z8j6_2026-05.csv.gz", "service_name",
         {"Graffiti": "graffiti", "Streetlights": "street_lights", "Sewer Issues": "water_sewer",
          "Street and Sidewalk Cleaning": "street_cleaning", "Noise Report": "noise"}),
    ],
)  # fmt: skip
def test_real_type_names_map_to_their_category(
    city: str, file: str, column: str, expected: dict[str, str]
) -> None:
    categories = load_categories()
    seen = real_types(file, column)
    for complaint_type, key in expected.items():
        assert complaint_type in seen, f"{complaint_type!r} is not in {file}"  # names as published
        found = category_of(categories, city, complaint_type)
        assert found is not None and found.key == key, complaint_type


def test_a_user_file_replaces_a_category_and_adds_one(tmp_path: Path) -> None:
    user = tmp_path / "categories.toml"
    user.write_text(
        '[graffiti]\nlabel = "Graffiti only"\nnyc = ["Graffiti"]\n\n'
        '[parking]\nlabel = "Parking"\nnyc = ["Illegal Parking", "Blocked Driveway"]\n',
        encoding="utf-8",
    )
    categories = {c.key: c for c in load_categories(user)}
    assert categories["graffiti"].label == "Graffiti only" and "chicago" not in categories["graffiti"].types
    assert category_of(tuple(categories.values()), "nyc", "blocked driveway") == categories["parking"]
    assert "potholes" in categories  # the rest of the shipped mapping stays


@pytest.mark.parametrize("text", ['[x]\nnyc = "Graffiti"\n', "x = 1\n", "[x\n", "[x]\nnyc = [1]\n"])
def test_a_malformed_user_file_is_one_config_error_naming_it(tmp_path: Path, text: str) -> None:
    user = tmp_path / "categories.toml"
    user.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"categories\.toml"):
        load_categories(user)
