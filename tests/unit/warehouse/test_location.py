"""Coordinates: the latitude/longitude columns, else any of the five shapes of ``location``."""

from __future__ import annotations

import json
from typing import Any

import pytest

LAT, LON = 40.67679280229251, -73.7379342313789

SHAPES = {
    "geojson": json.dumps({"type": "Point", "coordinates": [LON, LAT]}),
    "legacy_object": json.dumps(
        {
            "latitude": str(LAT),
            "longitude": str(LON),
            "human_address": '{"address": "", "city": "", "state": "", "zip": ""}',
        }
    ),
    "csv_three_lines": f"\n,  \n({LAT}, {LON})",
    "wkt": f"POINT ({LON} {LAT})",
    "lat_lon_pair": f"({LAT}, {LON})",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_location_shape_gives_coordinates_when_columns_are_missing(
    shape: str, make_row: Any, normalize_one: Any
) -> None:
    row = normalize_one(make_row(latitude=None, longitude=None, location=SHAPES[shape]))
    assert row["latitude"] == pytest.approx(LAT)
    assert row["longitude"] == pytest.approx(LON)
    assert row["location"] == SHAPES[shape]  # stored as delivered


def test_location_given_as_a_nested_json_object_is_parsed(make_row: Any, normalize_one: Any) -> None:
    location = {"type": "Point", "coordinates": [LON, LAT]}
    row = normalize_one(make_row(latitude=None, longitude=None, location=location))
    assert (row["latitude"], row["longitude"]) == (pytest.approx(LAT), pytest.approx(LON))
    assert json.loads(row["location"]) == location


def test_columns_win_over_location(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(latitude="40.7", longitude="-73.9", location="(40.1, -73.1)"))
    assert (row["latitude"], row["longitude"]) == (40.7, -73.9)


def test_half_a_pair_in_the_columns_falls_back_to_location(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(latitude="40.7", longitude=None, location="(40.1, -73.1)"))
    assert (row["latitude"], row["longitude"]) == (40.1, -73.1)


def test_no_coordinates_anywhere_is_null_and_flagged(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(latitude=None, longitude=None, location='{"human_address": "{}"}'))
    assert row["latitude"] is None and row["longitude"] is None
    assert "no_coordinates" in row["dirty_flags"]


def test_garbage_coordinates_are_null_and_flagged(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(latitude="N/A", longitude="-73.9", location="garbage"))
    assert row["latitude"] is None
    assert "unparseable_coordinates" in row["dirty_flags"]


@pytest.mark.parametrize(("lat", "lon"), [("41.5", "-73.9"), ("40.7", "-75.0"), ("0", "-73.9")])
def test_coordinates_outside_the_city_are_kept_and_flagged(
    lat: str, lon: str, make_row: Any, normalize_one: Any
) -> None:
    row = normalize_one(make_row(latitude=lat, longitude=lon))
    assert row["latitude"] == float(lat)
    assert "outside_city" in row["dirty_flags"]


def test_coordinates_inside_the_city_are_not_flagged(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row())
    assert "outside_city" not in row["dirty_flags"]
    assert "no_coordinates" not in row["dirty_flags"]


def test_a_missing_half_is_not_called_unparseable(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(latitude="40.7", longitude=None))
    assert "unparseable_coordinates" not in row["dirty_flags"]
    assert "no_coordinates" in row["dirty_flags"]


def test_legacy_rows_json_location_array(make_row: Any, normalize_one: Any) -> None:
    location = ['{"address": "", "city": "", "state": "", "zip": ""}', str(LAT), str(LON), None, False]
    row = normalize_one(make_row(latitude=None, longitude=None, location=location))
    assert (row["latitude"], row["longitude"]) == (pytest.approx(LAT), pytest.approx(LON))


@pytest.mark.parametrize("text", ["NaN", "inf", "-Infinity", "1e400"])
def test_non_finite_coordinates_are_null_and_flagged(text: str, make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(latitude=text, longitude="-73.9", location=None))
    assert row["latitude"] is None
    assert {"unparseable_coordinates", "no_coordinates"} <= set(row["dirty_flags"])


def test_zero_zero_is_its_own_flag_not_a_place_outside_the_city(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(latitude="0", longitude="0"))
    assert (row["latitude"], row["longitude"]) == (0.0, 0.0)  # kept as delivered
    assert "zero_coordinates" in row["dirty_flags"] and "outside_city" not in row["dirty_flags"]
