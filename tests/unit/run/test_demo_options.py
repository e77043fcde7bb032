"""The demo's simulator starts in the past, with its outage a few simulated days ahead."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from resolve311.demo import DemoOptions, demo_cities, demo_settings, simulator_args
from resolve311.errors import ConfigError
from resolve311.settings import Settings


def test_simulator_starts_before_the_real_date_with_an_outage_ahead() -> None:
    options = DemoOptions(today=date(2026, 11, 28), lead_days=30, outage_in_days=3, outage_days=1)
    args = simulator_args(options, "/tmp/sim")
    assert args[args.index("--today") + 1] == "2026-10-29"
    assert args[args.index("--down") + 1] == "2026-11-01..2026-11-01"


def test_demo_settings_keep_demo_data_apart(tmp_path: Path) -> None:
    base = Settings(home=tmp_path)
    demo = demo_settings(base, "http://127.0.0.1:1", DemoOptions(today=date(2026, 11, 28)))
    assert demo.home == tmp_path / "demo"
    assert demo.socrata_url == "http://127.0.0.1:1"
    assert demo.schedule.startswith("@every")


def test_several_cities_get_a_simulator_each_and_only_the_last_an_outage(tmp_path: Path) -> None:
    options = DemoOptions(today=date(2026, 11, 28), cities=("nyc", "chicago", "sf"))
    args = {city: simulator_args(options, "/tmp/sim", city) for city in options.cities}
    assert ["--down" in a for a in args.values()] == [False, False, True]
    assert (
        "--source" not in args["nyc"] and args["chicago"][args["chicago"].index("--source") + 1] == "chicago"
    )
    assert len({a[a.index("--seed") + 1] for a in args.values()}) == 3
    urls = {city: f"http://127.0.0.1:{port}" for port, city in enumerate(options.cities, 1)}
    demo = demo_settings(Settings(home=tmp_path), urls, options)
    assert demo.city_names() == ["nyc", "chicago", "sf"] and demo.socrata_url is None
    assert demo.for_city("chicago").portal_url() == "http://127.0.0.1:2"
    assert demo.for_city("sf").warehouse_path == tmp_path / "demo" / "cities" / "sf" / "warehouse.duckdb"


def test_demo_cities_are_built_in_sources_named_once() -> None:
    assert demo_cities("nyc, chicago,sf") == ("nyc", "chicago", "sf")
    with pytest.raises(ConfigError, match="unknown city 'boston'"):
        demo_cities("nyc,boston")
    with pytest.raises(ConfigError, match="name each city once"):
        demo_cities("nyc,nyc")
