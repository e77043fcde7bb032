"""The serving snapshot: contract tables, atomic replace, status republished when the source is down."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from resolve311.metrics.snapshot import status_results
from resolve311.publish import publish_results, refresh_and_publish
from resolve311.settings import Settings
from resolve311.warehouse.connection import open_warehouse

CONTRACT = {
    "meta": {"key", "value"},
    "status": {
        "source", "as_of", "last_run_id", "last_run_kind", "last_run_status", "last_run_started_at",
        "last_run_ended_at", "last_success_at", "unavailable_since", "watermark", "requests_total",
        "quarantine_total", "last_error",
    },
    "runs": {"run_id", "source", "kind", "started_at", "ended_at", "status", "error"},
    "quarantine_summary": {"reason", "rows", "last_seen"},
    "agencies": {"agency", "agency_name", "requests_total", "first_created", "last_created"},
    "scorecard": {
        "agency", "complaint_type", "borough", "window", "baseline", "metric", "recent", "historical",
        "diff_abs", "diff_rel", "score", "anomaly", "small_sample", "n_recent", "n_historical",
    },
    "heatmap_when": {"weekday", "hour", "recent", "historical", "difference", "window", "baseline"},
    "heatmap_where": {"cell_lat", "cell_lon", "recent", "historical", "difference"},
    "series": {"period", "date", "created", "closed", "baseline_low", "baseline_mid", "baseline_high"},
    "km_curve": {"window", "cohort", "t_hours", "survival", "at_risk"},
}  # fmt: skip
META_KEYS = {
    "as_of",
    "as_of_date",
    "generated_at",
    "source",
    "windows",
    "default_window",
    "grid_deg",
    "schema_version",
}


def columns(path: Path) -> dict[str, set[str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def add_run(settings: Settings, status: str, started: datetime, error: str | None = None) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "INSERT INTO runs (run_id, source, kind, started_at, ended_at, status, error)"
            " VALUES (?, 'nyc', 'update', ?, ?, ?, ?)",
            [f"run-{started:%H%M%S}", started, started, status, error],
        )


def publish_status(settings: Settings) -> None:
    """What a run does when the metrics were not refreshed: fresh status, the metric tables carried over."""
    with open_warehouse(settings.warehouse_path) as con:
        publish_results(settings, status_results(settings, con), con)


def test_publish_status_without_any_snapshot_creates_a_minimal_one(settings: Settings, warehouse) -> None:
    warehouse.close()
    add_run(settings, "source_unavailable", datetime(2026, 1, 2, 6), "source unavailable after 3 tries")
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "INSERT INTO source_state VALUES ('nyc', 'erm2-nwe9', TIMESTAMP '2026-01-01 05:00',"
            " TIMESTAMP '2026-01-01 06:00', TIMESTAMP '2026-01-02 06:00')"
        )
        for row, reason in enumerate(["missing_unique_key", "missing_unique_key", "bad_created_date"]):
            con.execute(
                "INSERT INTO quarantine VALUES (7, ?, 'nyc', NULL, ?, NULL, '{}', TIMESTAMP '2026-01-02 06:00')",
                [row, reason],
            )
    publish_status(settings)
    cols = columns(settings.snapshot_path)
    for table, expected in CONTRACT.items():
        assert expected <= cols[table], table
    meta = dict(query(settings.snapshot_path, "SELECT key, value FROM meta"))
    assert set(meta) >= META_KEYS
    assert meta["as_of"] is None
    assert meta["grid_deg"] == "0.01"
    assert query(settings.snapshot_path, "SELECT last_run_status, last_error FROM status") == [
        ("source_unavailable", "source unavailable after 3 tries")
    ]
    assert query(settings.snapshot_path, "SELECT unavailable_since, quarantine_total FROM status") == [
        (datetime(2026, 1, 2, 6), 3)
    ]
    assert query(settings.snapshot_path, 'SELECT reason, "rows" FROM quarantine_summary ORDER BY reason') == [
        ("bad_created_date", 1),
        ("missing_unique_key", 2),
    ]


def test_refresh_publishes_every_contract_table_and_status_carries_metrics_over(
    settings: Settings, warehouse
) -> None:
    for day in range(1, 20):
        warehouse.add(f"k{day}", datetime(2025, 3, day, 9), datetime(2025, 3, day, 15))
    warehouse.commit()
    report = refresh_and_publish(settings)
    assert report.mode == "full"
    cols = columns(settings.snapshot_path)
    for table, expected in CONTRACT.items():
        assert expected <= cols[table], table
    meta = dict(query(settings.snapshot_path, "SELECT key, value FROM meta"))
    assert meta["as_of"] == "2025-03-19T09:00:00"
    assert meta["as_of_date"] == "2025-03-18"
    before = query(settings.snapshot_path, "SELECT * FROM scorecard ORDER BY ALL")
    assert before
    inode = settings.snapshot_path.stat().st_ino

    add_run(settings, "source_unavailable", datetime(2026, 1, 2, 6), "down")
    publish_status(settings)
    assert settings.snapshot_path.stat().st_ino != inode  # a new file renamed into place
    assert query(settings.snapshot_path, "SELECT * FROM scorecard ORDER BY ALL") == before
    assert query(settings.snapshot_path, "SELECT last_run_status FROM status") == [("source_unavailable",)]
    assert dict(query(settings.snapshot_path, "SELECT key, value FROM meta"))["as_of"] == meta["as_of"]
    assert not list(settings.snapshot_path.parent.glob("*.tmp"))


def test_unknown_engine_is_a_config_error(settings: Settings) -> None:
    from resolve311.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown metrics engine"):
        refresh_and_publish(settings, engine="pandas")


def test_refresh_without_requests_publishes_an_empty_snapshot(settings: Settings, warehouse) -> None:
    warehouse.close()
    report = refresh_and_publish(settings)
    assert report.mode == "empty"
    assert query(settings.snapshot_path, "SELECT count(*) FROM scorecard") == [(0,)]
    assert dict(query(settings.snapshot_path, "SELECT key, value FROM meta"))["as_of"] is None


def test_a_reader_keeps_its_snapshot_while_a_new_one_is_renamed_into_place(
    settings: Settings, warehouse
) -> None:
    warehouse.add("a", datetime(2025, 3, 1, 9), datetime(2025, 3, 1, 10))
    warehouse.add("b", datetime(2025, 3, 3, 9))
    warehouse.commit()
    refresh_and_publish(settings)
    reader = duckdb.connect(str(settings.snapshot_path), read_only=True)
    try:
        before = reader.execute("SELECT value FROM meta WHERE key = 'as_of'").fetchall()
        warehouse.add("c", datetime(2025, 3, 5, 9))
        warehouse.commit()
        refresh_and_publish(settings)
        # the open reader still sees its complete old file; a new reader (another process: DuckDB
        # caches open databases by path within a process) sees the new one
        assert reader.execute("SELECT value FROM meta WHERE key = 'as_of'").fetchall() == before
        code = (
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True);"
            "print(c.execute(\"SELECT value FROM meta WHERE key = 'as_of'\").fetchall()[0][0])"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(settings.snapshot_path)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "2025-03-05T09:00:00"
    finally:
        reader.close()
