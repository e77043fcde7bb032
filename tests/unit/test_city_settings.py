"""A several-city home: each city gets its own directory and URL namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolve311.errors import ConfigError
from resolve311.settings import Settings, load_settings


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


def test_a_city_finds_the_homes_custom_catalogs_and_publishes_to_its_own_schema(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "metro.toml").write_text(
        'name = "metro"\ndisplay_name = "Metro City"\n[[datasets]]\nid = "abcd-1234"\n'
    )
    settings = Settings(home=tmp_path, cities=["nyc", "metro"])
    metro = settings.for_city("metro")
    assert metro.catalog_dir == tmp_path / "sources"
    assert metro.city().title == "Metro City"
    assert metro.publish_schema == "resolve311_metro"
    assert settings.for_city("nyc").city().title == "New York City"


def test_one_city_or_each_city(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, cities=["nyc", "chicago"])
    assert [c.source for c in settings.each_city()] == ["nyc", "chicago"]
    assert [c.source for c in settings.each_city("chicago")] == ["chicago"]
    assert settings.one_city("chicago").home == tmp_path / "cities" / "chicago"
    with pytest.raises(ConfigError, match="this home keeps nyc, chicago: name one with --city"):
        settings.one_city()
    single = Settings(home=tmp_path)
    assert single.one_city() is single and single.each_city() == [single]
    assert Settings(home=tmp_path, cities=["sf"]).one_city().home == tmp_path / "cities" / "sf"


@pytest.mark.parametrize(
    ("cities", "message"),
    [(["nyc", "nyc"], "each city once: nyc named twice"), (["../x"], "not a city name")],
)
def test_city_names_are_checked(tmp_path: Path, cities: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(home=tmp_path, cities=cities)
