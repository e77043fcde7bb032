"""Must show: killing `resolve311 update` with SIGKILL at random moments loses and duplicates nothing.

Twenty runs are killed at random moments (seeded, so a failure can be replayed),
each followed by the next attempt; a final run completes. The warehouse then
equals the one an uninterrupted run builds from the same simulator.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

KILLS = 20
SEED = 20261128


def snapshot(warehouse: Path) -> dict[str, object]:
    """The warehouse's content, without the columns that record when and by which batch a row came."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "requests": con.execute(
                "SELECT * EXCLUDE (batch_seq, loaded_at) FROM requests ORDER BY unique_key"
            ).fetchall(),
            "versions": con.execute(
                "SELECT unique_key, row_hash FROM request_versions ORDER BY ALL"
            ).fetchall(),
            "quarantine": con.execute("SELECT count(*) FROM quarantine").fetchall(),
            "watermarks": con.execute("SELECT dataset, watermark FROM source_state ORDER BY 1").fetchall(),
        }
    finally:
        con.close()


def update_command(home: Path, url: str) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "RESOLVE311_HOME": str(home),
        "RESOLVE311_SOCRATA_URL": url,
        "RESOLVE311_PAGE_SIZE": "150",
        "RESOLVE311_LOG_LEVEL": "WARNING",
    }
    return [sys.executable, "-m", "resolve311", "update", "--json", "--skip-metrics"], env


@pytest.mark.slow
def test_sigkill_at_random_moments_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path, home: Path, simulator_factory: Callable[..., Any]
) -> None:
    sim = simulator_factory(
        "--seed", "5", "--today", "2024-03-10", "--history-days", "10", "--scale", "0.03",
        "--data-dir", str(tmp_path / "sim"),
    )  # fmt: skip
    reference_home = tmp_path / "reference"
    cmd, env = update_command(reference_home, sim.url)
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=300).returncode == 0

    rng = random.Random(SEED)
    cmd, env = update_command(home, sim.url)
    killed = 0
    for _ in range(KILLS):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rng.uniform(0.3, 3.0))
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL: no cleanup of any kind
            proc.wait()
            killed += 1
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert killed >= KILLS // 2, "most runs should have been killed mid-way"

    assert snapshot(home / "warehouse.duckdb") == snapshot(reference_home / "warehouse.duckdb")
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        statuses = dict(con.execute("SELECT status, count(*) FROM runs GROUP BY ALL").fetchall())
    finally:
        con.close()
    assert "running" not in statuses
    assert statuses.get("interrupted", 0) >= 1
