"""`resolve311 up` against the simulator: schedule, outage, catch-up, SIGTERM and restart.

The supervisor runs on a seconds-long schedule; the test moves the simulator's
clock, takes the source down for longer than one scheduled run, and checks
that the dashboard's freshness shows the outage and then the catch-up, and
that after a SIGTERM mid-update and a restart the warehouse equals the
simulator's data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from helpers import SimulatorProcess, free_port, start_simulator, wait_for

pytestmark = pytest.mark.slow

ORACLE = {"X-Sim-No-Faults": "1"}
DATASETS = ("erm2-nwe9", "76ig-c548")


def oracle_versions(url: str) -> set[tuple[str, datetime]]:
    """(unique_key, :updated_at) of every row the simulator holds now, read past faults."""
    out: set[tuple[str, datetime]] = set()
    for dataset in DATASETS:
        rows = httpx.get(
            f"{url}/resource/{dataset}.json",
            params={"$select": "unique_key,:updated_at", "$order": ":id", "$limit": "10000000"},
            headers=ORACLE,
            timeout=120,
        ).json()
        for row in rows:
            stamp = datetime.fromisoformat(row[":updated_at"].replace("Z", "+00:00")).replace(tzinfo=None)
            out.add((row["unique_key"], stamp))
    return out


def warehouse_versions(home: Path) -> set[tuple[str, datetime]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT unique_key, source_updated_at FROM requests").fetchall()
        dupes = con.execute("SELECT count(*) - count(DISTINCT unique_key) FROM requests").fetchone()
    finally:
        con.close()
    assert dupes == (0,)
    return {(key, stamp) for key, stamp in rows}


class Up:
    """A running `resolve311 up` child and its dashboard."""

    def __init__(self, home: Path, sim: SimulatorProcess, port: int) -> None:
        self.home, self.port = home, port
        env = {
            **os.environ,
            "RESOLVE311_HOME": str(home),
            "RESOLVE311_CONFIG": str(home / "none.toml"),
            "RESOLVE311_SOCRATA_URL": sim.url,
            "RESOLVE311_SCHEDULE": "@every 2s",
            "RESOLVE311_HISTORY_DAYS": "10",
            "RESOLVE311_HISTORY_YEAR_EARLIER": "false",
            "RESOLVE311_PORT": str(port),
            "RESOLVE311_REQUEST_TIMEOUT_S": "2",
            "RESOLVE311_RETRY_BUDGET_S": "1",
            "RESOLVE311_RETRY_BASE_S": "0.1",
            "RESOLVE311_RETRY_MAX_S": "0.5",
            "RESOLVE311_RETRY_UNAVAILABLE_MINUTES": "0.05",
        }
        env.pop("SOCRATA_APP_TOKEN", None)
        self.log = (home.parent / f"up-{port}.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "resolve311", "up"], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def status(self) -> dict[str, Any]:
        response = httpx.get(f"http://127.0.0.1:{self.port}/api/status", timeout=5)
        response.raise_for_status()
        return dict(response.json())

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.log.close()
        return code


def advance(sim: SimulatorProcess, days: int = 1) -> str:
    response = httpx.post(f"{sim.url}/_sim/advance", params={"days": days}, headers=ORACLE, timeout=120)
    response.raise_for_status()
    return str(httpx.get(f"{sim.url}/_sim/state", timeout=10).json()["today"])


def update_in_flight(parent: int) -> bool:
    """True while a `resolve311 update` child of ``parent`` is running (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"update" in cmdline:
            return True
    return False


def test_up_survives_outage_and_sigterm(tmp_path: Path) -> None:
    today = date.today()
    outage = f"{today + timedelta(days=2)}..{today + timedelta(days=3)}"
    sim = start_simulator("--seed", "6", "--history-days", "10", "--scale", "0.01", "--down", outage)
    home = tmp_path / "home"
    up = Up(home, sim, free_port())
    try:
        first = wait_for(lambda: up.status().get("last_success_at"), timeout=240)
        # A new day arrives and is pulled on schedule.
        assert advance(sim) == (today + timedelta(days=1)).isoformat()
        wait_for(lambda: up.status()["last_success_at"] > str(first), timeout=120)
        # The source goes down for two simulated days: longer than many scheduled runs.
        advance(sim)
        down = wait_for(lambda: up.status().get("unavailable_since"), timeout=120)
        assert up.status()["source_state"] != "available"
        # It comes back: the retry catches up and the banner clears.
        advance(sim, 2)
        wait_for(lambda: up.status().get("unavailable_since") is None, timeout=120)
        assert up.status()["last_success_at"] > str(down)
        # SIGTERM in the middle of an update, then restart: nothing lost or doubled.
        advance(sim)
        wait_for(lambda: update_in_flight(up.proc.pid), timeout=60, interval=0.01)
        assert up.stop() == 0
        restarted = datetime.now(UTC).isoformat()[:19]
        up = Up(home, sim, up.port)
        wait_for(lambda: up.status()["last_success_at"] > restarted, timeout=180)
        expected = oracle_versions(sim.url)
    finally:
        if up.proc.poll() is None:
            up.stop()
        sim.stop()
    assert warehouse_versions(home) == expected
