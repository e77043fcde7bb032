"""`resolve311 update` publishes to every sink; a failing sink fails neither the run nor the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from helpers import free_port
from integration.publish import lake_readers as read

SIM_ARGS = ("--seed", "9", "--today", "2025-05-01", "--history-days", "4", "--scale", "0.01")


def update(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resolve311", "update", "--json"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "RESOLVE311_HOME": str(home), **env},
    )  # fmt: skip


def last_outcomes(home: Path) -> dict[str, tuple[str, str | None]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT sink, status, error FROM publishes"
            " QUALIFY row_number() OVER (PARTITION BY sink ORDER BY started_at DESC) = 1"
        ).fetchall()
    return {sink: (status, error) for sink, status, error in rows}


def test_update_publishes_to_the_lake_and_retries_postgres_on_the_next_run(
    home: Path, simulator_factory, postgres, tmp_path: Path
) -> None:
    sim = simulator_factory(*SIM_ARGS, "--data-dir", str(tmp_path / "sim"))
    lake = str(tmp_path / "lake")
    env = {
        "RESOLVE311_SOCRATA_URL": sim.url,
        "RESOLVE311_LAKE_URL": lake,
        "RESOLVE311_PUBLISH_URL": f"postgresql://postgres:hunter2@127.0.0.1:{free_port()}/postgres",
    }
    first = update(home, env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["status"] == "success"
    outcomes = last_outcomes(home)
    assert outcomes["serving"] == ("success", None) and outcomes["lake"] == ("success", None)
    assert outcomes["postgres"][0] == "failed" and "hunter2" not in (outcomes["postgres"][1] or "")
    assert "hunter2" not in first.stderr
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        total = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    assert len(read.with_duckdb(lake, "requests")) == total > 0

    second = update(home, {**env, "RESOLVE311_PUBLISH_URL": postgres.url})
    assert second.returncode == 0, second.stderr
    assert last_outcomes(home)["postgres"] == ("success", None)
    import psycopg

    with psycopg.connect(postgres.url) as pg:
        status = pg.execute("SELECT requests_total FROM resolve311.status").fetchone()[0]
    assert status == total
