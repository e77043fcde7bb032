"""Must show: `up`/`schedule` notice at start that the snapshot is behind the warehouse (a run killed in
its metrics or publish stage, a load with --skip-metrics) and publish it, though no run is due."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from helpers import REAL_FILES, wait_for
from resolve311.metrics.snapshot import data_generation, read_meta
from resolve311.processes import stop_process

SIM_ARGS = ("--seed", "4", "--today", "2025-05-01", "--history-days", "3", "--scale", "0.01")


def _published_generation(home: Path) -> bool:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)  # raises while a writer works
    try:
        current = data_generation(con, "nyc")
    finally:
        con.close()
    meta = read_meta(home / "serving.duckdb")
    return meta.get("data_generation") == current and meta.get("metrics_status") == "published"


def _published_run_status(home: Path) -> object:
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        row = con.execute("SELECT last_run_status FROM status").fetchone()
    finally:
        con.close()
    return row[0] if row else None


@pytest.mark.slow
def test_the_scheduler_publishes_an_unpublished_snapshot_at_start(
    cli: Any, home: Path, simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(*SIM_ARGS, "--data-dir", str(tmp_path / "s"))
    env = {"RESOLVE311_SOCRATA_URL": sim.url}
    assert cli("update", env=env).returncode == 0
    loaded = cli("import", "--skip-metrics", str(REAL_FILES[0]))  # loaded, never published
    assert loaded.returncode == 0, loaded.stderr
    assert not _published_generation(home)
    (home / "initial-backfill.done").write_text("done")  # no backfill: only the catch-up may run

    log = (tmp_path / "schedule.log").open("wb")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "resolve311", "schedule", "--schedule", "0 6 * * *"],
        env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    before = read_meta(home / "serving.duckdb")["generated_at"]
    try:  # watch only the snapshot: a reader of the warehouse would keep the writer out
        wait_for(
            lambda: (
                _published_run_status(home) == "success"
                and read_meta(home / "serving.duckdb")["generated_at"] != before
                and "update success" in (tmp_path / "schedule.log").read_text()
            ),
            timeout=300,
        )
    finally:
        supervisor.send_signal(signal.SIGTERM)
        stop_process(supervisor)
        log.close()
    assert "catch-up: the snapshot reflects warehouse generation" in (tmp_path / "schedule.log").read_text()
    assert _published_generation(home)
