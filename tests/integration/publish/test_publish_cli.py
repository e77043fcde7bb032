"""`resolve311 publish`: clear one-line errors and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def publish(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resolve311", "publish", *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "RESOLVE311_HOME": str(home), **env},
    )  # fmt: skip


def test_an_unconfigured_sink_is_a_usage_error(home: Path) -> None:
    done = publish(home, "--sink", "lake")
    assert done.returncode == 2
    assert done.stderr == "error: sink 'lake' is not configured; configured: serving\n"


def test_no_snapshot_yet_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    done = publish(home, RESOLVE311_LAKE_URL=str(tmp_path / "lake"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: no serving snapshot yet")


def test_a_failing_sink_exits_1_and_names_it(publish_env, tmp_path: Path) -> None:
    env = publish_env()
    env.warehouse.close()
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    done = publish(env.settings.home, RESOLVE311_LAKE_URL=str(blocked))
    assert done.returncode == 1, done.stderr
    assert "serving: skipped" in done.stdout and "lake: failed" in done.stdout
    assert done.stderr.splitlines()[-1] == "error: publishing failed for lake"
