"""A several-city home: each city gets its own directory and URL namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolve311.errors import ConfigError
from resolve311.settings import Settings


def test_single_city_home_is_its_own_city(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, source="chicago")
    assert settings.city_names() == ["chicago"]
    assert not settings.several_cities
    assert settings.for_city("chicago") is settings
    with pytest.raises(ConfigError, match="unknown city 'nyc'"):
        settings.for_city("nyc")


def test_several_cities_live_apart(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        cities=["nyc", "chicago"],
        city_urls={"chicago": "http://127.0.0.1:9"},
        landing_url="s3://bucket/landing/",
        lake_url="s3://bucket/lake",
    )
    chicago = settings.for_city("chicago")
    nyc = settings.for_city("nyc")
    assert settings.city_names() == ["nyc", "chicago"]
    assert chicago.source == "chicago" and not chicago.several_cities
    assert chicago.warehouse_path == tmp_path / "cities" / "chicago" / "warehouse.duckdb"
    assert nyc.snapshot_path == tmp_path / "cities" / "nyc" / "serving.duckdb"
    assert chicago.lock_path != nyc.lock_path
    assert chicago.portal_url() == "http://127.0.0.1:9"
    assert nyc.portal_url() == "https://data.cityofnewyork.us"
    assert chicago.landing_location == "s3://bucket/landing/chicago"
    assert nyc.lake_url == "s3://bucket/lake/nyc"
    with pytest.raises(ConfigError, match="keeps nyc, chicago"):
        settings.for_city("sf")
