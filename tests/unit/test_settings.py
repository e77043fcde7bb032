"""Settings precedence: defaults < TOML file < environment < flags; the token stays secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolve311.errors import ConfigError
from resolve311.settings import load_settings


def test_defaults(home: Path) -> None:
    s = load_settings()
    assert s.home == home
    assert s.page_size == 50_000
    assert s.socrata_url is None and s.timezone is None  # the source's own, unless overridden
    assert s.portal_url() == "https://data.cityofnewyork.us"
    assert s.city_timezone() == "America/New_York"


def test_the_source_owns_its_portal_and_zone_and_settings_only_override(home: Path) -> None:
    chicago = load_settings(source="chicago")
    assert chicago.portal_url() == "https://data.cityofchicago.org"
    assert chicago.city_timezone() == "America/Chicago"
    assert chicago.portal_url(chicago.city()) == chicago.city().domain
    forced = load_settings(source="sf", socrata_url="http://127.0.0.1:9", timezone="UTC")
    assert (forced.portal_url(), forced.city_timezone()) == ("http://127.0.0.1:9", "UTC")


def test_precedence_file_env_flag(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "r.toml"
    cfg.write_text("page_size = 100\ntrailing_days = 5\nport = 9000\n")
    monkeypatch.setenv("RESOLVE311_CONFIG", str(cfg))
    monkeypatch.setenv("RESOLVE311_TRAILING_DAYS", "7")
    s = load_settings(port=9100)
    assert (s.page_size, s.trailing_days, s.port) == (100, 7, 9100)


def test_token_only_from_env_and_redacted(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCRATA_APP_TOKEN", "sekrit-token-123")
    s = load_settings()
    assert s.token() == "sekrit-token-123"
    assert "sekrit" not in repr(s)
    assert "sekrit" not in str(s.redacted())


def test_invalid_value_is_one_line_config_error(home: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(page_size=0)
    assert "page_size" in str(info.value)
    assert "\n" not in str(info.value)
