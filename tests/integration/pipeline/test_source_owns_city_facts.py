"""A source's catalog file is enough: its portal, time zone and box are used without any setting."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from resolve311.metrics.snapshot import read_meta
from resolve311.pipeline import run_update
from resolve311.settings import load_settings

TODAY = date(2024, 5, 20)


def write_city(home: Path, name: str, domain: str, timezone: str, bbox: str) -> None:
    folder = home / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(
        f'name = "{name}"\ndomain = "{domain}"\ntimezone = "{timezone}"\nbbox = {bbox}\n'
        '[[datasets]]\nid = "erm2-nwe9"\ncreated_from = "2020-01-01"\n'
        '[[areas]]\nname = "borough"\nlabel = "Borough"\n'
    )


def heat_cells(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM heatmap_where").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def test_the_catalog_domain_zone_and_box_are_used_without_settings(
    home: Path, tmp_path: Path, simulator_factory: Any, oracle: Any, warehouse: Any
) -> None:
    sim = simulator_factory(
        "--seed", "5", "--today", TODAY.isoformat(), "--history-days", "4", "--scale", "0.01",
        "--data-dir", str(tmp_path / "s"),
    )  # fmt: skip
    # the simulator serves NYC-shaped rows; "simcity" says only where its portal is and which zone it keeps
    write_city(home, "simcity", sim.url, "America/Chicago", "[40.47, 40.93, -74.28, -73.68]")
    settings = load_settings(source="simcity", retry_base_s=0.01, retry_max_s=0.05)
    assert settings.socrata_url is None  # no portal setting: the catalog's domain is the only way to the data
    report = run_update(settings)
    assert report.status == "success", report.error
    expected = {str(r["unique_key"]) for r in oracle.rows(sim.url)}
    assert {k for (k,) in warehouse("SELECT unique_key FROM requests WHERE source = 'simcity'")} == expected
    meta = read_meta(settings.snapshot_path)
    assert meta["timezone"] == "America/Chicago" and meta["source"] == "simcity"
    assert heat_cells(settings.snapshot_path) > 0

    # the same rows under a box far away (in a home of its own: one city per home for now): flagged
    # outside the city, and the "where" heat map is empty
    elsewhere = tmp_path / "elsewhere-home"
    write_city(elsewhere, "elsewhere", sim.url, "America/New_York", "[41.60, 42.05, -87.96, -87.50]")
    other = load_settings(home=elsewhere, source="elsewhere", retry_base_s=0.01, retry_max_s=0.05)
    assert run_update(other).status == "success"
    con = duckdb.connect(str(other.warehouse_path), read_only=True)
    try:
        counts = con.execute(
            "SELECT count(*) FILTER (list_contains(dirty_flags, 'outside_city')), count(latitude) FROM requests"
        ).fetchone()
    finally:
        con.close()
    assert counts is not None and counts[0] == counts[1] > 0
    assert heat_cells(other.snapshot_path) == 0
    assert read_meta(other.snapshot_path)["timezone"] == "America/New_York"


def test_run_update_for_another_source_reads_that_sources_portal(
    home: Path, tmp_path: Path, simulator_factory: Any, warehouse: Any
) -> None:
    sim = simulator_factory(
        "--seed", "6", "--today", TODAY.isoformat(), "--history-days", "2", "--scale", "0.01",
        "--data-dir", str(tmp_path / "s"),
    )  # fmt: skip
    write_city(home, "simcity", sim.url, "America/Chicago", "[40.47, 40.93, -74.28, -73.68]")
    # settings name NYC (the real portal, never reached in a test); the run names simcity
    settings = load_settings(retry_base_s=0.01, retry_max_s=0.05, retry_budget_s=1)
    report = run_update(settings, source="simcity", refresh=False)
    assert report.status == "success", report.error
    assert warehouse("SELECT count(*) > 0 FROM requests WHERE source = 'simcity'") == [(True,)]
