"""The metrics break down by the city's main area (its catalog's first [[areas]]), and the snapshot
carries the per-type days and area positions the cross-city view and the map labels read."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from resolve311.pipeline import run_update
from resolve311.settings import load_settings

TODAY = date(2024, 5, 20)


def test_the_main_area_of_the_catalog_is_the_breakdown(
    home: Path, tmp_path: Path, simulator_factory: Any, warehouse: Any
) -> None:
    sim = simulator_factory(
        "--seed", "7", "--today", TODAY.isoformat(), "--history-days", "4", "--scale", "0.01",
        "--data-dir", str(tmp_path / "s"),
    )  # fmt: skip
    folder = home / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    # NYC-shaped rows, but this city reports by community board first (as Chicago by community area)
    (folder / "boards.toml").write_text(
        f'name = "boards"\ndomain = "{sim.url}"\nbbox = [40.47, 40.93, -74.28, -73.68]\n'
        '[[datasets]]\nid = "erm2-nwe9"\ncreated_from = "2020-01-01"\n'
        '[[areas]]\nname = "community_board"\nlabel = "Community board"\n'
        '[[areas]]\nname = "borough"\nlabel = "Borough"\n'
    )
    settings = load_settings(source="boards", retry_base_s=0.01, retry_max_s=0.05)
    report = run_update(settings)
    assert report.status == "success", report.error
    boards = {
        str(b) for (b,) in warehouse("SELECT DISTINCT community_board FROM requests WHERE source = 'boards'")
    }
    with duckdb.connect(str(settings.snapshot_path), read_only=True) as con:
        breakdown = {
            str(b)
            for (b,) in con.execute("SELECT DISTINCT borough FROM scorecard WHERE borough <> '*'").fetchall()
        }
        areas = dict(con.execute("SELECT area, requests FROM areas").fetchall())
        days = con.execute("SELECT sum(created), sum(open_now) FROM type_days").fetchone()
        (as_of_date,) = con.execute(
            "SELECT CAST(value AS DATE) FROM meta WHERE key = 'as_of_date'"
        ).fetchone() or (None,)
    assert breakdown and breakdown <= boards | {"Unspecified"}
    assert set(areas) <= boards | {"Unspecified"}
    ((total, open_now),) = warehouse(  # up to the last complete day, as every metric
        "SELECT count(*), count(*) FILTER (WHERE NOT is_closed) FROM requests "
        "WHERE source = 'boards' AND CAST(created_date AS DATE) <= ?",
        [as_of_date],
    )
    assert days == (total, open_now) and sum(areas.values()) == total
