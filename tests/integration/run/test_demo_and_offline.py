"""The offline demo reaches a populated dashboard; `up` with no network fails politely."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import free_port, stop_process, wait_for

pytestmark = pytest.mark.slow


def start(args: list[str], tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "process.log"
    full_env = {**os.environ, "RESOLVE311_CONFIG": str(tmp_path / "none.toml"), **env}
    full_env.pop("SOCRATA_APP_TOKEN", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "resolve311", *args], env=full_env, stdout=out, stderr=out
        )
    return proc, log


def api_status(port: int) -> dict[str, Any]:
    response = httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=5)
    response.raise_for_status()
    return dict(response.json())


def test_demo_reaches_a_populated_dashboard(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "home"
    args = ["demo", "--home", str(home), "--port", str(port), "--history-days", "20", "--scale", "0.01"]
    proc, log = start(args, tmp_path, {})
    try:
        status = wait_for(lambda: api_status(port).get("last_success_at") and api_status(port), timeout=300)
        assert isinstance(status, dict) and status["as_of"]
        agencies = httpx.get(f"http://127.0.0.1:{port}/api/agencies", timeout=10).json()["agencies"]
        assert {"NYPD", "HPD", "DSNY"} <= {a["agency"] for a in agencies}
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200
    finally:
        code = stop_process(proc, timeout=60)
    assert code == 0, log.read_text()[-3000:]
    assert (home / "demo" / "warehouse.duckdb").exists()
    assert not list(home.glob("warehouse.duckdb")), "the demo must keep its data apart from real data"


def test_up_without_network_serves_and_keeps_retrying(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "RESOLVE311_HOME": str(tmp_path / "home"),
        "RESOLVE311_SOCRATA_URL": "http://127.0.0.1:9",  # nothing listens on the discard port
        "RESOLVE311_PORT": str(port),
        "RESOLVE311_RETRY_BUDGET_S": "0.5",
        "RESOLVE311_RETRY_BASE_S": "0.05",
        "RESOLVE311_RETRY_UNAVAILABLE_MINUTES": "0.02",
    }
    proc, log = start(["up"], tmp_path, env)
    try:
        wait_for(lambda: api_status(port).get("unavailable_since"), timeout=120)
        wait_for(lambda: log.read_text().count("retrying at") >= 2, timeout=120)
        assert proc.poll() is None, "up must keep running while the source is unreachable"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200
    finally:
        code = stop_process(proc, timeout=60)
    assert code == 0
    assert "Traceback" not in log.read_text()


def test_a_second_demo_starts_afresh_and_leaves_real_data_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stale = home / "demo" / "stale.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("from yesterday's demo")
    real = home / "warehouse.duckdb"
    real.write_bytes(b"not touched")
    port = free_port()
    args = ["demo", "--home", str(home), "--port", str(port), "--history-days", "20", "--scale", "0.01"]
    proc, _ = start(args, tmp_path, {})
    try:
        wait_for(lambda: api_status(port).get("last_success_at"), timeout=300)
    finally:
        stop_process(proc, timeout=60)
    assert not stale.exists()
    assert real.read_bytes() == b"not touched"
