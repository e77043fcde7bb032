"""Data commands step back for the dashboard: they run at ``background_nice`` (every thread)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: A data command's start (settings, then DuckDB's worker threads), reporting each thread's nice value.
PROBE = """
import os, duckdb
from resolve311.cli.options import writer_settings
writer_settings()
con = duckdb.connect(":memory:")
con.execute("SET threads = 4")
con.execute("SELECT sum(i) FROM range(20000000) t(i)").fetchall()
tasks = os.listdir("/proc/self/task")
print(sorted({int(open(f"/proc/self/task/{t}/stat").read().rsplit(")", 1)[1].split()[16]) for t in tasks}), len(tasks))
"""


def _niceness(tmp_path: Path, setting: str, prefix: list[str] | None = None) -> tuple[list[int], int]:
    env = {**os.environ, "RESOLVE311_HOME": str(tmp_path), "RESOLVE311_BACKGROUND_NICE": setting}
    env["RESOLVE311_CONFIG"] = str(tmp_path / "none.toml")
    cmd = [*(prefix or []), sys.executable, "-c", PROBE]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=True)
    values, threads = done.stdout.strip().rsplit(" ", 1)
    return [int(v) for v in values.strip("[]").split(",")], int(threads)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads thread priorities from /proc")
def test_every_thread_of_a_data_command_runs_at_background_nice(tmp_path: Path) -> None:
    parent = os.nice(0)
    values, threads = _niceness(tmp_path, "10")
    assert threads > 1 and values == [max(10, parent)]
    assert _niceness(tmp_path, "0")[0] == [parent]  # 0: normal priority, unchanged


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads thread priorities from /proc")
def test_a_command_started_nicer_is_never_raised(tmp_path: Path) -> None:
    assert _niceness(tmp_path, "5", prefix=["nice", "-n", "15"])[0] == [min(19, os.nice(0) + 15)]
