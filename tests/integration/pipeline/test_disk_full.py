"""Must show: a full disk is reported as a full disk, recorded as the run's cause, and cleaned up.

The home lies on a real, small tmpfs (mounted by the test; root is needed): DuckDB's own
"No space left on device" is what the pipeline meets, at two sizes — a tiny disk, where a
failed rollback used to mask the cause, and a larger one that fills up during the load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from helpers import REAL_FILES
from resolve311.cli.exit_codes import EXIT_OK, EXIT_STORAGE


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A directory on a fresh tmpfs (unmounted afterwards)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def resize(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def resolve311(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESOLVE311_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "resolve311", *args], capture_output=True, text=True, env=env, timeout=600
    )


def ledger(home: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("SELECT status, error FROM runs ORDER BY started_at").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("size", ["3m", "10m"])
def test_a_full_disk_says_disk_full_records_it_and_leaves_no_temporary_file(
    small_disk: Path, size: str
) -> None:
    resize(small_disk, size)
    home = small_disk / "home"
    full = resolve311(home, "import", *map(str, REAL_FILES))

    assert full.returncode == EXIT_STORAGE, full.stderr
    errors = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, full.stderr
    assert "disk full" in errors[0] and "No space left on device" in errors[0]
    assert "cannot rollback" not in errors[0]
    assert "Traceback" not in full.stderr
    runs = ledger(home)
    assert [status for status, _ in runs] == ["failed"]  # not left 'running'
    assert "No space left on device" in str(runs[0][1])
    assert [p.name for p in home.rglob("*") if ".tmp" in p.name] == []

    resize(small_disk, "256m")  # room again: the next run completes and publishes
    again = resolve311(home, "import", *map(str, REAL_FILES))
    assert again.returncode == EXIT_OK, again.stderr
    assert [status for status, _ in ledger(home)] == ["failed", "success"]
    assert (home / "serving.duckdb").exists()
