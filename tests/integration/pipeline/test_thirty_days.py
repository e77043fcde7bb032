"""Must show: 30 simulated days, every fault kind, a 3-day outage — the warehouse ends equal to the source.

The simulator straddles 2020-01-01, so both NYC datasets (76ig-c548 and
erm2-nwe9) are pulled. Updates run in-process (metrics off, to keep the test
fast); after each one the simulator's exact data is read with the oracle header.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from resolve311.pipeline import run_update
from resolve311.settings import load_settings

FAULTS = "503:0.04,500:0.02,429:0.02,202:0.02,timeout:0.02,reset:0.02,truncate:0.02,empty:0.03,html:0.02"
TODAY = date(2020, 1, 4)
DAYS = 30
OUTAGE = (TODAY + timedelta(days=12), TODAY + timedelta(days=14))


def count(path: Path, sql: str) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


@pytest.mark.slow
def test_thirty_days_of_faults_and_an_outage_end_equal_to_the_source(
    home: Path, tmp_path: Path, simulator_factory: Callable[..., Any], oracle: Any
) -> None:
    sim = simulator_factory(
        "--seed", "3", "--today", TODAY.isoformat(), "--history-days", "12", "--scale", "0.01",
        "--faults", FAULTS, "--down", f"{OUTAGE[0]}..{OUTAGE[1]}", "--stall-seconds", "2",
        "--data-dir", str(tmp_path / "sim"),
    )  # fmt: skip
    settings = load_settings(
        socrata_url=sim.url, page_size=250, request_timeout_s=0.5,
        retry_base_s=0.01, retry_max_s=0.2, retry_budget_s=4.0,
    )  # fmt: skip
    could_see: set[tuple[str, str]] = set()
    seen_anything: set[tuple[str, str]] = set()
    statuses: dict[date, str] = {}
    for day in range(DAYS + 1):
        today = TODAY + timedelta(days=day)
        report = run_update(settings, refresh=False)
        statuses[today] = report.status
        snapshot = oracle.versions(oracle.rows(sim.url))
        seen_anything |= snapshot
        if report.status == "success":
            could_see |= snapshot
            assert count(settings.warehouse_path, "SELECT count(*) FROM requests") == len(snapshot), today
        if day < DAYS:
            httpx.post(f"{sim.url}/_sim/advance", params={"days": 1}, timeout=120).raise_for_status()

    # the outage days ended as source_unavailable, every other day succeeded
    outage_days = {d for d in statuses if OUTAGE[0] <= d <= OUTAGE[1]}
    assert {statuses[d] for d in outage_days} == {"source_unavailable"}
    assert {s for d, s in statuses.items() if d not in outage_days} == {"success"}
    state = httpx.get(f"{sim.url}/_sim/state", timeout=30).json()
    assert set(state["faults_injected"]) >= {
        "503",
        "429",
        "202",
        "timeout",
        "reset",
        "truncate",
        "empty",
        "html",
    }

    # after the last update: requests equals the source exactly, every key and every field
    final = oracle.rows(sim.url)
    assert {r["__dataset"] for r in final} == {"76ig-c548", "erm2-nwe9"}
    assert oracle.differences(settings.warehouse_path, final) == []
    assert oracle.raw_mismatches(settings.warehouse_path, final) == []
    assert count(settings.warehouse_path, "SELECT count(*) - count(DISTINCT unique_key) FROM requests") == 0

    # request_versions holds every version the puller could have seen, and nothing it could not
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        versions = set(con.execute("SELECT unique_key, source_updated_at FROM request_versions").fetchall())
        runs = con.execute("SELECT status, count(*) FROM runs GROUP BY ALL").fetchall()
        unavailable = con.execute(
            "SELECT count(*) FROM source_state WHERE unavailable_since IS NOT NULL"
        ).fetchone()
    finally:
        con.close()
    assert could_see <= versions
    assert versions <= seen_anything
    assert dict(runs) == {"success": DAYS + 1 - len(outage_days), "source_unavailable": len(outage_days)}
    assert unavailable == (0,)
