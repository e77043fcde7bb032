"""`resolve311 simulate --source chicago|sf` serves a portal that `update`/`backfill` load whole.

The simulator runs as its own process (real HTTP, a free port); `update` runs
through the CLI in a temporary home with ``RESOLVE311_SOURCE`` and
``RESOLVE311_SOCRATA_URL``. The warehouse must equal the simulator's rows read
past every fault (the oracle header), with no quarantine (the simulated cities'
dirty rows are flagged, as in the real files, never unreadable), and the
metrics and heat maps must fill.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pytest

from resolve311.pipeline import run_backfill
from resolve311.settings import load_settings
from resolve311.sources.catalog import get_source
from resolve311.warehouse.formats import read_records
from resolve311.warehouse.normalize import normalize

from .conftest import IGNORED_COLUMNS, ORACLE_HEADERS

TODAY = date(2026, 8, 1)
FAST = {"RESOLVE311_RETRY_BASE_S": "0.01", "RESOLVE311_RETRY_MAX_S": "0.05"}
FAULTS = "503:0.08,429:0.05,timeout:0.02,truncate:0.04,reset:0.02,empty:0.04,html:0.02"


def city_oracle(url: str, city: str) -> tuple[list[dict[str, Any]], pa.Table]:
    """The simulator's current rows of every dataset of ``city``, raw and through the loader's normalisation."""
    source = get_source(city)
    raw: list[dict[str, Any]] = []
    tables = []
    for dataset in source.datasets:
        params = {"$select": ":*,*", "$order": ":id", "$limit": "10000000"}
        response = httpx.get(
            f"{url}/resource/{dataset.id}.json", params=params, headers=ORACLE_HEADERS, timeout=120
        )
        response.raise_for_status()
        rows = response.json()
        raw.extend(rows)
        batch = normalize(
            read_records(json.dumps(rows).encode(), "json"),
            source=city,
            dataset=dataset.id,
            tz=source.timezone,
            field_map=source.field_map,
            rules=source.rules,
        )
        assert not batch.quarantined, batch.quarantined[:3]
        tables.append(batch.rows)
    return raw, pa.concat_tables(tables)


def differences(warehouse: Path, oracle: pa.Table) -> list[tuple[object, ...]]:
    """Rows of ``requests`` and of the normalised oracle that differ in any column (both ways).

    ``extra`` (the city's unmapped fields as a JSON object) is compared as an object: its key
    order follows the order fields first appear in a page, which differs between pages.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.register("oracle", oracle)
        names = [c for c in oracle.column_names if c not in IGNORED_COLUMNS]
        cols = ", ".join(_canonical(c) for c in names)
        return con.execute(
            f"(SELECT 'only in warehouse', {cols} FROM requests EXCEPT SELECT 'only in warehouse', {cols} FROM oracle)"
            f" UNION ALL (SELECT 'only in oracle', {cols} FROM oracle EXCEPT SELECT 'only in oracle', {cols} FROM requests)"
        ).fetchall()
    finally:
        con.close()


def _canonical(column: str) -> str:
    if column == "extra":
        return "list_sort(list_transform(json_keys(extra), lambda k: k || '=' || coalesce(extra ->> k, 'null')))::VARCHAR"
    return f'"{column}"::VARCHAR'


def one(path: Path, sql: str) -> Any:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    assert row is not None
    return row[0] if len(row) == 1 else row


def start(simulator_factory: Any, tmp_path: Path, city: str, *extra: str) -> Any:
    return simulator_factory(
        "--source", city, "--seed", "13", "--today", TODAY.isoformat(), "--history-days", "6",
        "--scale", "0.05", "--data-dir", str(tmp_path / f"sim-{city}"), *extra,
    )  # fmt: skip


@pytest.mark.parametrize("city", ["chicago", "sf"])
def test_update_from_a_simulated_city_equals_its_rows(
    city: str, home: Path, tmp_path: Path, simulator_factory: Any, cli: Any
) -> None:
    sim = start(simulator_factory, tmp_path, city)
    done = cli("update", env={"RESOLVE311_SOURCE": city, "RESOLVE311_SOCRATA_URL": sim.url, **FAST})
    assert done.returncode == 0, done.stderr[-3000:]

    raw, oracle = city_oracle(sim.url, city)
    warehouse = home / "warehouse.duckdb"
    assert len(raw) > 300
    assert one(warehouse, "SELECT count(*) FROM requests") == oracle.num_rows == len(raw)
    assert differences(warehouse, oracle) == []
    assert one(warehouse, "SELECT count(*) FROM quarantine") == 0  # as calibrated: flagged, never unreadable
    assert one(warehouse, "SELECT DISTINCT source FROM requests") == city

    # the city's vocabulary is understood: closed rows, areas filled, no borough asked for
    closed, with_area, unspecified = one(
        warehouse,
        "SELECT count(*) FILTER (closed_date IS NOT NULL AND hours_to_close IS NOT NULL), "
        "count(community_board) + count(council_district), "
        "count(*) FILTER (list_contains(dirty_flags, 'unspecified_borough')) FROM requests",
    )
    assert closed > len(raw) // 4 and with_area > 0 and unspecified == 0
    # the metrics and the "where" heat map fill
    snapshot = load_settings(source=city).snapshot_path
    assert one(snapshot, "SELECT count(*) FROM heatmap_where") > 0
    top = {"chicago": "Streets and Sanitation", "sf": "DPW Ops Queue"}[city]  # the busiest in the real files
    assert one(snapshot, f"SELECT count(*) FROM agencies WHERE agency = '{top}'") == 1
    assert one(snapshot, f"SELECT count(*) FROM scorecard WHERE agency = '{top}'") > 0

    # two simulated days later (new requests, closings, late edits), the next update catches up
    httpx.post(f"{sim.url}/_sim/advance", params={"days": "2"}, timeout=120).raise_for_status()
    done = cli("update", env={"RESOLVE311_SOURCE": city, "RESOLVE311_SOCRATA_URL": sim.url, **FAST})
    assert done.returncode == 0, done.stderr[-3000:]
    later, oracle = city_oracle(sim.url, city)
    assert len(later) > len(raw)
    assert differences(warehouse, oracle) == []
    assert one(warehouse, "SELECT count(*) FROM quarantine") == 0


def test_sf_zero_coordinates_are_flagged_as_in_the_real_file(
    home: Path, tmp_path: Path, simulator_factory: Any, cli: Any
) -> None:
    sim = start(simulator_factory, tmp_path, "sf")
    done = cli("update", env={"RESOLVE311_SOURCE": "sf", "RESOLVE311_SOCRATA_URL": sim.url, **FAST})
    assert done.returncode == 0, done.stderr[-3000:]
    zero, flagged, located = one(
        home / "warehouse.duckdb",
        "SELECT count(*) FILTER (latitude = 0), count(*) FILTER (list_contains(dirty_flags, 'zero_coordinates')), "
        "count(latitude) FROM requests",
    )
    assert 0 < zero == flagged < located // 10  # about 2% of the rows (103 of the real 5,000), each flagged


def test_with_faults_on_a_chicago_backfill_equals_the_source(
    home: Path, tmp_path: Path, simulator_factory: Any
) -> None:
    sim = start(simulator_factory, tmp_path, "chicago", "--faults", FAULTS, "--stall-seconds", "1")
    settings = load_settings(
        source="chicago", socrata_url=sim.url, page_size=80, retry_base_s=0.01, retry_max_s=0.05
    )
    report = run_backfill(settings, date(2026, 7, 20), date(2026, 8, 2), refresh=False, chunk_days=2)
    assert report.status == "success", report.error
    injected = httpx.get(f"{sim.url}/_sim/state", timeout=30).json()["faults_injected"]
    assert injected.get("503", 0) > 0 and injected.get("truncate", 0) + injected.get("reset", 0) > 0

    raw, oracle = city_oracle(sim.url, "chicago")
    warehouse = home / "warehouse.duckdb"
    assert one(warehouse, "SELECT count(*), count(DISTINCT unique_key) FROM requests") == (len(raw), len(raw))
    assert differences(warehouse, oracle) == []
    assert one(warehouse, "SELECT count(*) FROM quarantine") == 0
