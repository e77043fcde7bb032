"""Simulated Chicago through the real pipeline to the dashboard: community areas are the breakdown,
and the cross-city figures equal counts taken straight from the warehouse."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from resolve311.pipeline import run_update
from resolve311.settings import load_settings
from resolve311.web.app import create_app

TODAY = date(2026, 8, 1)
POTHOLES = "Pothole in Street Complaint"


def test_chicago_speaks_of_community_areas_and_compares_from_its_own_data(
    home: Path, tmp_path: Path, simulator_factory: Any, warehouse: Any
) -> None:
    sim = simulator_factory(
        "--source", "chicago", "--seed", "21", "--today", TODAY.isoformat(), "--history-days", "40",
        "--scale", "0.05", "--data-dir", str(tmp_path / "sim"),
    )  # fmt: skip
    settings = load_settings(source="chicago", socrata_url=sim.url, retry_base_s=0.01, retry_max_s=0.05)
    report = run_update(settings)
    assert report.status == "success", report.error
    client = create_app(settings).server.test_client()

    status = client.get("/api/status").get_json()
    assert (status["city"], status["area_label"]) == ("chicago", "Community area")
    ((agency, area),) = warehouse(
        "SELECT agency, community_board FROM requests WHERE community_board IS NOT NULL "
        "GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
    )
    body = client.get(f"/api/agencies/{agency}/scorecard", query_string={"area": area}).get_json()
    assert body["filters"]["area"] == area and body["filters"]["area_label"] == "Community area"
    assert {m["metric"] for m in body["metrics"]} >= {"created_per_day", "ttc_median_h"}

    (chicago,) = client.get("/api/compare").get_json()["cities"]
    as_of = date.fromisoformat(chicago["as_of_date"])
    potholes = next(r for r in chicago["rows"] if r["category"] == "potholes")
    assert potholes["types"] == [POTHOLES]
    ((recent,),) = warehouse(
        "SELECT count(*) FROM requests WHERE complaint_type = ? AND CAST(created_date AS DATE) BETWEEN ? AND ?"
        " AND json_extract_string(extra, '$.duplicate') IS DISTINCT FROM 'true'",  # duplicates not counted
        [POTHOLES, as_of - timedelta(days=27), as_of],
    )
    measure = potholes["measures"]["volume_recent_per_100k"]
    assert measure["n"] == recent > 0
    assert measure["value"] == round(recent * 100_000 / 2_664_452, 2)
    assert "Completed" in chicago["closed_means"]
    assert "Duplicate reports (“duplicate” = true) are not counted" in chicago["closed_means"]
