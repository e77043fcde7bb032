"""A concurrent `backfill` (several windows in flight) against the simulator.

With every fault on it still ends with the warehouse equal to the simulator's
data; killed with SIGKILL at random moments and rerun, it ends equal to an
uninterrupted run; and the request rate it is given is the rate it keeps.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import kill_at_random_moments, landed_batches, warehouse_content
from resolve311.extract.ratelimit import RateLimiter
from resolve311.pipeline import backfill, run_backfill
from resolve311.pipeline.backfill import plan_windows
from resolve311.settings import load_settings
from resolve311.sources.catalog import get_source

TODAY = date(2020, 1, 10)
SINCE, UNTIL = date(2019, 12, 1), date(2020, 1, 11)  # all of the history, across both NYC datasets
FAULTS = "503:0.08,429:0.05,timeout:0.03,truncate:0.04,reset:0.02,empty:0.04,html:0.02,202:0.02"


def sim_state(url: str) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{url}/_sim/state", timeout=30).json()
    return state


@pytest.mark.parametrize(
    ("workers", "tail_rows"),
    [(4, backfill.TAIL_COMMIT_ROWS), (4, 1), (1, backfill.TAIL_COMMIT_ROWS)],
    ids=["4 workers", "4 workers, a commit at every wait in the tail", "serial"],
)
def test_with_every_fault_on_a_concurrent_backfill_equals_the_source(
    workers: int,
    tail_rows: int,
    monkeypatch: pytest.MonkeyPatch,
    home: Path,
    tmp_path: Path,
    simulator_factory: Callable[..., Any],
    oracle: Any,
    warehouse: Any,
) -> None:
    sim = simulator_factory(
        "--seed", "12", "--today", TODAY.isoformat(), "--history-days", "30", "--scale", "0.01",
        "--faults", FAULTS, "--stall-seconds", "1", "--retry-after", "1", "--data-dir", str(tmp_path / "s"),
    )  # fmt: skip
    settings = load_settings(
        socrata_url=sim.url, page_size=60, retry_base_s=0.01, retry_max_s=0.05, backfill_workers=workers
    )
    limiter = RateLimiter(settings.request_rate)
    monkeypatch.setattr(backfill, "TAIL_COMMIT_ROWS", tail_rows)
    commits = []
    commit = backfill.TransactionWriter.commit

    def counted(writer: backfill.TransactionWriter) -> None:
        commits.append(writer.pending)
        commit(writer)

    monkeypatch.setattr(backfill.TransactionWriter, "commit", counted)
    report = run_backfill(settings, SINCE, UNTIL, refresh=False, chunk_days=3, limiter=limiter)
    assert report.status == "success", report.error
    committed = [rows for rows in commits if rows]
    assert len(committed) > 1 if tail_rows == 1 else len(committed) == 1  # a small run: one commit

    injected = sim_state(sim.url)["faults_injected"]
    assert injected.get("429", 0) > 0 and injected.get("timeout", 0) > 0 and injected.get("truncate", 0) > 0
    assert limiter.holds == injected["429"]  # every 429's Retry-After paused all workers

    rows = oracle.rows(sim.url)
    assert warehouse("SELECT count(*), count(DISTINCT unique_key) FROM requests") == [(len(rows), len(rows))]
    assert oracle.differences(home / "warehouse.duckdb", rows) == []  # every key, every field
    assert oracle.raw_mismatches(home / "warehouse.duckdb", rows) == []
    windows = plan_windows(get_source("nyc"), SINCE, UNTIL, TODAY, 3)
    assert {w.dataset for w in windows} == {"76ig-c548", "erm2-nwe9"}
    assert warehouse("SELECT count(*) FROM backfill_chunks") == [(len(windows),)]


def test_the_request_rate_is_kept_by_every_worker_together(
    home: Path, tmp_path: Path, simulator_factory: Callable[..., Any]
) -> None:
    sim = simulator_factory(
        "--seed", "4", "--today", "2024-03-10", "--history-days", "12", "--scale", "0.01",
        "--data-dir", str(tmp_path / "s"),
    )  # fmt: skip
    rate = 40.0
    settings = load_settings(socrata_url=sim.url, page_size=50, backfill_workers=4, request_rate=rate)
    limiter = RateLimiter(settings.request_rate)
    before = sim_state(sim.url)["requests_served"]
    report = run_backfill(
        settings, date(2024, 2, 26), date(2024, 3, 11), refresh=False, chunk_days=2, limiter=limiter
    )
    served = sim_state(sim.url)["requests_served"] - before
    assert report.status == "success", report.error
    assert served == len(limiter.granted) > 20  # every request the simulator saw went through the limiter
    gap = limiter.min_gap()
    assert gap is not None and gap >= 1 / rate - 1e-9  # never two requests closer than 1/rate
    times = sorted(limiter.granted)
    assert all(times[i + 40] - times[i] >= 1.0 - 1e-9 for i in range(len(times) - 40))  # ≤ 40 in any second


def snapshot(warehouse: Path) -> dict[str, object]:
    return warehouse_content(
        warehouse, {"chunks": "SELECT dataset, chunk, rows FROM backfill_chunks ORDER BY ALL"}
    )


def backfill_command(home: Path, url: str) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "RESOLVE311_HOME": str(home),
        "RESOLVE311_SOCRATA_URL": url,
        "RESOLVE311_PAGE_SIZE": "80",
        "RESOLVE311_BACKFILL_WORKERS": "4",
        "RESOLVE311_LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "resolve311", "backfill", "--since", "2024-02-20", "--until", "2024-03-11",
           "--json", "--skip-metrics"]  # fmt: skip
    return cmd, env


@pytest.mark.slow
def test_sigkill_during_a_concurrent_backfill_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path, home: Path, simulator_factory: Callable[..., Any]
) -> None:
    sim = simulator_factory(
        "--seed", "6", "--today", "2024-03-10", "--history-days", "20", "--scale", "0.03",
        "--data-dir", str(tmp_path / "sim"),
    )  # fmt: skip
    reference_home = tmp_path / "reference"
    cmd, env = backfill_command(reference_home, sim.url)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    rng = random.Random(20261130)
    cmd, env = backfill_command(home, sim.url)
    # each kill takes the workers and the writer down at once
    killed = kill_at_random_moments(cmd, env, home, rng, 8, landed_batches(reference_home) // 8)
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert killed >= 4, "most runs should have been killed mid-way"
    assert snapshot(home / "warehouse.duckdb") == snapshot(reference_home / "warehouse.duckdb")
