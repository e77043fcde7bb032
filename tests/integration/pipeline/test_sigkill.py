"""Must show: killing `resolve311 update` with SIGKILL at random moments loses and duplicates nothing.

Twenty runs are killed at random moments of their progress (seeded, so a failure can be replayed),
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

from helpers import kill_at_random_moments, landed_batches, wait_for, warehouse_content

KILLS = 20
SEED = 20261128


def snapshot(warehouse: Path) -> dict[str, object]:
    return warehouse_content(warehouse, {"quarantine": "SELECT count(*) FROM quarantine"})


def update_command(home: Path, url: str, page_size: int = 150) -> tuple[list[str], dict[str, str]]:
    """Small pages by default: many pages, so a random kill often lands between two of them."""
    env = {
        **os.environ,
        "RESOLVE311_HOME": str(home),
        "RESOLVE311_SOCRATA_URL": url,
        "RESOLVE311_PAGE_SIZE": str(page_size),
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
    pages = landed_batches(reference_home)

    rng = random.Random(SEED)
    cmd, env = update_command(home, sim.url)
    killed = kill_at_random_moments(cmd, env, home, rng, KILLS, pages // KILLS)
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert killed >= KILLS // 2, f"most runs should have been killed mid-way: {killed} of {KILLS}"

    assert snapshot(home / "warehouse.duckdb") == snapshot(reference_home / "warehouse.duckdb")
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        statuses = dict(con.execute("SELECT status, count(*) FROM runs GROUP BY ALL").fetchall())
    finally:
        con.close()
    assert "running" not in statuses
    assert statuses.get("interrupted", 0) >= 1


# ------------------------------------------------------------- metrics and publish
METRIC_TABLES = ("agencies", "scorecard", "heatmap_when", "heatmap_where", "series", "km_curve")
VOLATILE_META = ("generated_at", "data_generation")
WHOLE_PAGES = 50_000  # the default page size: one page per dataset and pull here


def published(snapshot_path: Path) -> dict[str, object]:
    """The serving snapshot's metric tables and meta (floats rounded; no publish-time keys)."""

    def value(v: object) -> object:
        return round(v, 9) if isinstance(v, float) else v

    con = duckdb.connect(str(snapshot_path), read_only=True)
    try:
        tables: dict[str, object] = {
            name: [
                tuple(map(value, row))
                for row in con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
            ]
            for name in METRIC_TABLES
        }
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        tables["meta"] = {k: v for k, v in meta.items() if k not in VOLATILE_META}
        tables["last_run_status"] = con.execute("SELECT last_run_status FROM status").fetchall()
        return tables
    finally:
        con.close()


def _kill_in_stage(
    cmd: list[str], env: dict[str, str], home: Path, log: Path, stage: str, delay: float
) -> bool:
    """Run an update; SIGKILL it inside ``stage`` (metrics: ``delay`` s after it starts; publish: while the
    snapshot's temporary file is being written). True when the kill landed there."""
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    marker = f"{stage} stage started for run"
    try:
        wait_for(lambda: marker in log.read_text() or proc.poll() is not None, timeout=300, interval=0.01)
        if proc.poll() is not None:
            return False
        if stage == "metrics":
            try:
                proc.wait(timeout=delay)
                return False
            except subprocess.TimeoutExpired:
                pass
        else:
            temp = home / f".serving.duckdb.{proc.pid}.tmp"
            wait_for(lambda: temp.exists() or proc.poll() is not None, timeout=300, interval=0.002)
        proc.kill()  # SIGKILL: no cleanup of any kind
        return proc.wait() == -9
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_sigkill_during_metrics_and_publish_then_rerun_publishes_what_an_uninterrupted_run_does(
    tmp_path: Path, home: Path, simulator_factory: Callable[..., Any]
) -> None:
    sim = simulator_factory(
        "--seed", "5", "--today", "2024-03-10", "--history-days", "10", "--scale", "0.03",
        "--data-dir", str(tmp_path / "sim"),
    )  # fmt: skip
    reference_home = tmp_path / "reference"
    # The kills land in metrics and publish, not between pages: whole-history pages make each attempt's
    # pull a few requests instead of dozens (the rows, and so what is compared, are the same).
    cmd, env = update_command(reference_home, sim.url, page_size=WHOLE_PAGES)
    cmd = [c for c in cmd if c != "--skip-metrics"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr

    cmd, env = update_command(home, sim.url, page_size=WHOLE_PAGES)
    cmd = [c for c in cmd if c != "--skip-metrics"]
    env = {**env, "RESOLVE311_LOG_LEVEL": "INFO"}
    rng = random.Random(SEED)
    landed = {"metrics": 0, "publish": 0}
    for stage in ("metrics", "publish", "metrics", "publish", "metrics", "publish"):
        if _kill_in_stage(cmd, env, home, tmp_path / "run.log", stage, rng.uniform(0.05, 2.0)):
            landed[stage] += 1
    assert landed["metrics"] >= 1 and landed["publish"] >= 1, landed

    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert published(home / "serving.duckdb") == published(reference_home / "serving.duckdb")
    assert published(home / "serving.duckdb")["last_run_status"] == [("success",)]
    assert [p.name for p in home.iterdir() if ".tmp" in p.name] == []  # the killed writers' files are gone
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        runs = con.execute(
            "SELECT r.status, (SELECT s.status FROM run_stages s WHERE s.run_id = r.run_id AND s.stage = 'publish') "
            "FROM runs r"
        ).fetchall()
        stages = set(con.execute("SELECT stage, status FROM run_stages").fetchall())
    finally:
        con.close()
    # No killed run counts as success: a run is 'success' exactly when its publish stage committed (one
    # transaction sets both). A kill can land after that commit, while the process exits, and an attempt
    # can finish before its kill (more often on a fast machine), so the kills' count does not fix the split.
    assert {status for status, _ in runs} <= {"success", "interrupted"}, runs
    assert all((status == "success") == (publish == "success") for status, publish in runs), runs
    assert {("metrics", "interrupted"), ("publish", "interrupted")} <= stages
