"""``resolve311 simulate`` as a process: URL first, serves, stops cleanly; bad arguments are one line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from helpers import REAL_FILES, SimulatorProcess


def test_prints_url_first_serves_and_exits_zero_on_sigterm(
    simulator_factory: Callable[..., SimulatorProcess],
) -> None:
    sim = simulator_factory("--scale", "0.01", "--history-days", "2", "--today", "2024-04-16", "--seed", "5")
    assert sim.url.startswith("http://127.0.0.1:")
    state = httpx.get(f"{sim.url}/_sim/state").json()
    assert state["today"] == "2024-04-16" and state["seed"] == 5
    assert httpx.get(f"{sim.url}/resource/erm2-nwe9.json").status_code == 200
    sim.process.terminate()
    assert sim.process.wait(timeout=30) == 0


def test_replay_accepts_several_files_after_one_flag(
    simulator_factory: Callable[..., SimulatorProcess],
) -> None:
    files = [str(p) for p in REAL_FILES[:3]]
    sim = simulator_factory("--replay", *files)
    state = httpx.get(f"{sim.url}/_sim/state").json()
    assert len(state["replay"]) == 3 and state["total_rows"] > 0


@pytest.mark.parametrize(
    "args",
    [
        ["--faults", "teapot:0.5"],
        ["--down", "2024-05-01"],
        ["--today", "not-a-date"],
        ["--replay", "/no/such/file.csv"],
        ["stray-argument"],
        ["--source", "atlantis"],
        ["--source", "chicago", "--replay", str(REAL_FILES[0])],
    ],
)
def test_bad_arguments_give_one_line_and_nonzero_exit(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "resolve311", "simulate", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
