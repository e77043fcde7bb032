"""The source catalog: NYC spans two datasets by created date; cities are TOML data."""

from datetime import date
from pathlib import Path

import pytest

from resolve311.errors import ConfigError
from resolve311.sources.catalog import get_source, load_catalog


def test_nyc_spans_the_two_datasets_by_created_date() -> None:
    nyc = get_source("nyc")
    old, new = nyc.dataset("76ig-c548"), nyc.dataset("erm2-nwe9")
    assert old.created_until == date(2020, 1, 1) and old.created_from is None
    assert new.created_from == date(2020, 1, 1) and new.created_until is None
    assert nyc.field_map == {}
    assert nyc.key_field == "unique_key"


def test_dataset_overlap_decides_which_datasets_a_range_touches() -> None:
    nyc = get_source("nyc")
    touched = lambda a, b: [d.id for d in nyc.datasets if d.overlaps(a, b)]  # noqa: E731
    assert touched(date(2019, 12, 1), date(2020, 2, 1)) == ["76ig-c548", "erm2-nwe9"]
    assert touched(date(2024, 1, 1), None) == ["erm2-nwe9"]
    assert touched(date(2015, 1, 1), date(2020, 1, 1)) == ["76ig-c548"]


def test_other_cities_are_field_mappings() -> None:
    catalog = load_catalog()
    assert {"nyc", "chicago", "sf"} <= set(catalog)
    assert catalog["chicago"].field_map["sr_number"] == "unique_key"
    assert catalog["sf"].field_map["requested_datetime"] == "created_date"


def test_a_city_is_added_with_a_toml_file(tmp_path: Path) -> None:
    (tmp_path / "boston.toml").write_text(
        'name = "boston"\ndomain = "https://data.boston.gov"\ntimezone = "America/New_York"\n'
        '[[datasets]]\nid = "abcd-1234"\ncreated_from = "2015-01-01"\n[field_map]\ncase_id = "unique_key"\n'
    )
    boston = get_source("boston", tmp_path)
    assert boston.datasets[0].created_from == date(2015, 1, 1)
    assert boston.field_map == {"case_id": "unique_key"}


def test_unknown_or_broken_sources_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="known: chicago, nyc, sf"):
        get_source("atlantis")
    (tmp_path / "bad.toml").write_text('name = "bad"\n')
    with pytest.raises(ConfigError, match="datasets"):
        load_catalog(tmp_path)


def test_each_city_declares_its_facts() -> None:
    catalog = load_catalog()
    nyc, chicago, sf = catalog["nyc"], catalog["chicago"], catalog["sf"]
    assert (nyc.rules.closed_statuses, nyc.rules.has_borough) == (("Closed",), True)
    assert chicago.closed_statuses == ("Completed",) and "Canceled" in chicago.cancelled_statuses
    assert [(a.name, a.label, a.column) for a in chicago.areas] == [
        ("community_area", "Community area", "community_board"),
        ("ward", "Ward", "council_district"),
    ]
    assert [a.label for a in sf.areas] == ["Supervisor district", "Neighborhood"]
    assert not chicago.rules.has_borough and not sf.rules.has_borough
    assert (chicago.agency_field, sf.agency_field) == ("owner_department", "agency_responsible")
    for city, (lat, lon) in {
        "nyc": (40.71, -74.0),
        "chicago": (41.88, -87.63),
        "sf": (37.77, -122.42),
    }.items():
        south, north, west, east = catalog[city].bbox or (0, 0, 0, 0)
        assert south < lat < north and west < lon < east, city
    assert sf.field_map["caseid"] == "unique_key" and sf.field_map["opened"] == "created_date"


def test_a_new_city_gets_its_agency_field_mapped_and_no_box_by_default(tmp_path: Path) -> None:
    (tmp_path / "town.toml").write_text(
        'name = "town"\nagency_field = "dept"\nkey_field = "case_no"\ncreated_field = "opened"\n'
        'closed_statuses = ["Resolved"]\n[[datasets]]\nid = "a-1"\n'
    )
    town = get_source("town", tmp_path)
    assert town.field_map == {"dept": "agency", "case_no": "unique_key", "opened": "created_date"}
    assert (town.bbox, town.areas, town.rules.closed_statuses) == (None, (), ("Resolved",))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("bbox = [1, 2, 3]", "bbox must be"),
        ("bbox = [42, 41, -87, -88]", "south < north"),
        ('closed_statuses = "Closed"', "list of strings"),
        ('agency_field = "dept"\n[field_map]\ndept = "descriptor"', "agency_field"),
        ('key_field = "case_no"\n[field_map]\ncase_no = "descriptor"', "key_field 'case_no' is mapped"),
        ("population = -5", "population must be a positive whole number"),
        ('population = "many"', "population must be a positive whole number"),
    ],
)
def test_malformed_city_facts_are_config_errors(tmp_path: Path, line: str, message: str) -> None:
    head, _, mapping = line.partition("[field_map]")
    (tmp_path / "bad.toml").write_text(
        f'name = "bad"\n{head}\n[[datasets]]\nid = "a-1"\n[field_map]{mapping}\n'
    )
    with pytest.raises(ConfigError, match=message):
        load_catalog(tmp_path)


def test_each_built_in_city_has_a_display_name_population_and_main_area() -> None:
    cities = load_catalog()
    facts = {n: (cities[n].display_name, cities[n].population) for n in ("nyc", "chicago", "sf")}
    assert facts == {  # 2023 Census estimates, cited in each catalog
        "nyc": ("New York City", 8_258_035),
        "chicago": ("Chicago", 2_664_452),
        "sf": ("San Francisco", 808_988),
    }
    main = {n: cities[n].main_area for n in ("nyc", "chicago", "sf")}
    assert {n: (a.label, a.column) for n, a in main.items() if a} == {
        "nyc": ("Borough", "borough"),
        "chicago": ("Community area", "community_board"),
        "sf": ("Supervisor district", "council_district"),
    }
