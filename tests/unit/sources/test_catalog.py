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
