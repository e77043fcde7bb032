"""`resolve311 update` against the simulator: exit codes, outage bookkeeping, one update at a time, SODA 3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import REAL_FILES, wait_for
from resolve311.cli.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE
from resolve311.warehouse.lock import read_holder, update_lock

SIM_ARGS = ("--seed", "9", "--today", "2025-05-01", "--history-days", "4", "--scale", "0.01")
FAST = {"RESOLVE311_RETRY_BASE_S": "0.01", "RESOLVE311_RETRY_MAX_S": "0.05", "RESOLVE311_RETRY_BUDGET_S": "1"}


def test_an_outage_exits_75_then_the_next_run_catches_up(
    cli: Any, warehouse: Any, simulator_factory: Callable[..., Any], oracle: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(*SIM_ARGS, "--down", "2025-05-01..2025-05-01", "--data-dir", str(tmp_path / "s"))
    env = {"RESOLVE311_SOCRATA_URL": sim.url, **FAST}
    down = cli("update", "--json", "--skip-metrics", env=env)
    assert down.returncode == EXIT_UNAVAILABLE, down.stderr
    report = json.loads(down.stdout)
    assert report["status"] == "source_unavailable"
    assert "source unavailable" in report["error"]
    assert warehouse("SELECT count(*) FROM source_state WHERE unavailable_since IS NOT NULL") == [(2,)]
    assert warehouse("SELECT status, error IS NOT NULL FROM runs") == [("source_unavailable", True)]
    status = json.loads(cli("status", "--json").stdout)
    assert [d["unavailable_since"] is not None for d in status["datasets"]] == [True, True]
    assert status["runs"][0]["status"] == "source_unavailable"

    httpx.post(f"{sim.url}/_sim/advance", params={"days": 1}, timeout=60).raise_for_status()
    back = cli("update", "--json", "--skip-metrics", env=env)
    assert back.returncode == EXIT_OK, back.stderr
    assert json.loads(back.stdout)["rows_new"] == len(oracle.rows(sim.url))
    assert warehouse("SELECT count(*) FROM source_state WHERE unavailable_since IS NOT NULL") == [(0,)]
    assert warehouse("SELECT count(*) FROM source_state WHERE last_success_at IS NOT NULL") == [(2,)]
    text = cli("status")
    assert text.returncode == 0
    assert "requests " + str(len(oracle.rows(sim.url))) in text.stdout
    assert "unavailable since" not in text.stdout


def test_a_rejected_query_exits_1_with_the_api_message(
    cli: Any, home: Path, simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(*SIM_ARGS, "--data-dir", str(tmp_path / "s"))
    (home / "sources").mkdir(parents=True)
    (home / "sources" / "nowhere.toml").write_text('name = "nowhere"\n[[datasets]]\nid = "zzzz-0000"\n')
    result = cli(
        "update", "--source", "nowhere", "--skip-metrics", env={"RESOLVE311_SOCRATA_URL": sim.url, **FAST}
    )
    assert result.returncode == EXIT_FAILURE
    assert "Cannot find view with id zzzz-0000" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_concurrent_update_exits_at_once(
    cli: Any, home: Path, simulator_factory: Any, tmp_path: Path
) -> None:
    """The first update is stuck on a stalled request while holding the lock; the second refuses."""
    sim = simulator_factory(
        *SIM_ARGS, "--faults", "timeout:1.0", "--stall-seconds", "120", "--data-dir", str(tmp_path / "s")
    )
    env = {**os.environ, "RESOLVE311_SOCRATA_URL": sim.url, "RESOLVE311_REQUEST_TIMEOUT_S": "100"}
    first = subprocess.Popen(
        [sys.executable, "-m", "resolve311", "update", "--skip-metrics"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        lock = home / "update.lock"
        wait_for(lambda: lock.exists() and read_holder(lock).startswith(f"pid {first.pid},"), timeout=60)
        second = cli("update", "--skip-metrics", env={"RESOLVE311_SOCRATA_URL": sim.url}, timeout=60)
        assert second.returncode == EXIT_UNAVAILABLE  # transient: a scheduler retries later
        assert f"another writer holds the warehouse (pid {first.pid}, `update`, since " in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one is untouched
    finally:
        first.kill()
        first.wait()
    with update_lock(home / "update.lock"):  # released by the OS when the holder died
        pass


@pytest.mark.parametrize("soda_version", ["3"])
def test_soda3_pulls_the_same_rows(
    cli: Any, warehouse: Any, simulator_factory: Any, oracle: Any, tmp_path: Path, soda_version: str
) -> None:
    sim = simulator_factory(*SIM_ARGS, "--faults", "503:0.1,empty:0.1", "--data-dir", str(tmp_path / "s"))
    env = {"RESOLVE311_SOCRATA_URL": sim.url, "RESOLVE311_SODA_VERSION": soda_version, "RESOLVE311_PAGE_SIZE": "60",
           "SOCRATA_APP_TOKEN": "tok-soda3-test", **FAST}  # fmt: skip
    result = cli("update", "--json", "--skip-metrics", env=env)
    assert result.returncode == EXIT_OK, result.stderr
    assert warehouse("SELECT count(*) FROM requests") == [(len(oracle.rows(sim.url)),)]
    assert (
        oracle.differences(Path(os.environ["RESOLVE311_HOME"]) / "warehouse.duckdb", oracle.rows(sim.url))
        == []
    )


def test_sigterm_interrupts_cleanly_and_the_ledger_says_so(
    cli: Any, home: Path, warehouse: Any, simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(
        *SIM_ARGS, "--faults", "timeout:1.0", "--stall-seconds", "120", "--data-dir", str(tmp_path / "s")
    )
    env = {**os.environ, "RESOLVE311_SOCRATA_URL": sim.url, "RESOLVE311_REQUEST_TIMEOUT_S": "100"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "resolve311", "update", "--skip-metrics"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lock = home / "update.lock"
    stalled = lambda: httpx.get(f"{sim.url}/_sim/state", timeout=10).json()["faults_injected"].get("timeout")  # noqa: E731
    wait_for(stalled, timeout=60)  # the run is under way: its first request hangs in the simulator
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert warehouse("SELECT status FROM runs") == [("interrupted",)]
    with update_lock(lock):
        pass


def test_a_warehouse_held_by_another_program_is_a_clear_error(cli: Any, home: Path) -> None:
    import duckdb

    home.mkdir(parents=True, exist_ok=True)
    holder = duckdb.connect(str(home / "warehouse.duckdb"))  # e.g. someone's notebook
    try:
        result = cli("import", "--skip-metrics", str(REAL_FILES[0]))
    finally:
        holder.close()
    assert result.returncode == EXIT_UNAVAILABLE
    assert "the warehouse is in use by another process" in result.stderr
    assert "Traceback" not in result.stderr
