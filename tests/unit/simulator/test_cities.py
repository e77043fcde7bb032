"""The simulated cities are data: each TOML names the real portal's columns, in order, and draws from calibrated tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from helpers import CITY_FILES, REAL_DATA, open_real_text
from resolve311.errors import ConfigError
from resolve311.simulator.cities import (
    BUCKETS,
    CITIES_DIR,
    bucket_table,
    read_weighted,
    sim_schema,
    simulated_cities,
)
from resolve311.sources.catalog import get_source


def real_api_header(city: str) -> list[str]:
    path = next(p for p in CITY_FILES[city] if "_soda-csv_" in p.name)
    with open_real_text(path) as handle:
        return next(csv.reader(handle))


@pytest.mark.parametrize("city", ["chicago", "sf"])
def test_a_city_serves_the_real_api_columns_in_order(city: str) -> None:
    schema = sim_schema(city)
    assert [c.name for c in schema.columns] == real_api_header(city)
    assert set(schema.datasets) == {d.id for d in get_source(city).datasets}
    assert get_source(city).key_field == schema.columns[0].name  # the key comes first, as on the portal


@pytest.mark.parametrize("city", ["chicago", "sf"])
def test_every_calibration_table_has_weights_and_the_columns_the_schema_reads(city: str) -> None:
    schema = sim_schema(city)
    sql = " ".join(c.sql for c in schema.columns)
    for alias, path in schema.tables:
        rows = read_weighted(path)
        assert rows and all(float(r["weight"]) > 0 for r in rows), path.name
        for column in rows[0]:
            if column != "weight":
                assert f"{alias}.{column}" in sql, f"{path.name}: {column} is never served"


def test_a_draw_gives_each_row_its_share_of_the_buckets() -> None:
    table = bucket_table([{"weight": "1", "name": "rare"}, {"weight": "3", "name": "common"}])
    names = table.column("name").to_pylist()
    assert len(names) == BUCKETS and names.count("rare") == BUCKETS // 4


def test_an_unknown_city_is_a_config_error_listing_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="chicago, sf"):
        sim_schema("atlantis")
    assert simulated_cities() == ["nyc", "chicago", "sf"]


def test_nyc_is_not_a_projection() -> None:
    nyc = sim_schema("nyc")
    assert not nyc.is_projection and nyc.project_sql("SELECT 1") == "SELECT 1"
    assert nyc.total({"erm2-nwe9": 2, "76ig-c548": 3, "fhrw-4uyv": 5}) == 5


def test_the_calibration_tables_are_rederived_from_the_real_files(tmp_path: Path) -> None:
    from resolve311.simulator.calibrate_cities import main

    main(REAL_DATA, tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [
        "chicago_channels.csv", "chicago_places.csv", "sf_channels.csv", "sf_places.csv", "sf_types.csv",
    ]  # fmt: skip
    for name in written:
        assert (tmp_path / name).read_bytes() == (CITIES_DIR / name).read_bytes(), name
