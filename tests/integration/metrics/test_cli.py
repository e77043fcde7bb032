"""`resolve311 metrics` and `resolve311 import-sla` as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb

from helpers import wait_for
from resolve311.cli.exit_codes import EXIT_INTERRUPTED

DATA = Path(__file__).parent / "data"


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESOLVE311_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "resolve311", *args], capture_output=True, text=True, env=env, timeout=300
    )


def signal_masks(pid: int) -> str:
    """The signals process ``pid`` blocks, ignores and catches (hex masks from /proc)."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return " ".join(
        line.replace("\t", "") for line in lines if line.startswith(("SigBlk", "SigIgn", "SigCgt"))
    )


def test_import_sla_then_metrics_publishes_on_time_share(home: Path, warehouse) -> None:
    for day in range(1, 12):
        warehouse.add(f"k{day}", datetime(2025, 3, day, 9), datetime(2025, 3, day, 10 + day % 4))
    warehouse.close()
    done = run(home, "import-sla", str(DATA / "sla_cs9t-e3x8.json"))
    assert done.returncode == 0, done.stderr
    assert "3 target(s) loaded from 5 row(s) (1 without a target)" in done.stdout
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        targets = con.execute(
            "SELECT agency, complaint_type, target_hours FROM sla_targets ORDER BY ALL"
        ).fetchall()
    assert ("NYPD", "Noise", 3.0) in targets
    done = run(home, "metrics", "--full")
    assert done.returncode == 0, done.stderr
    assert "full refresh on duckdb" in done.stdout
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        share = con.execute(
            "SELECT recent FROM scorecard WHERE agency = '*' AND \"window\" = '1d' AND baseline = '8w'"
            " AND metric = 'on_time_share'"
        ).fetchall()
    assert share == [(1.0,)]  # 2025-03-10: closed after 1 h, target 3 h


def test_bad_arguments_are_one_line_errors(home: Path) -> None:
    bad_engine = run(home, "metrics", "--engine", "pandas")
    assert bad_engine.returncode == 2
    assert bad_engine.stderr.strip().splitlines() == [
        "error: unknown metrics engine 'pandas'; use one of: duckdb, spark"
    ]
    missing = run(home, "import-sla", str(home / "nope.json"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_ctrl_c_during_a_refresh_exits_130_with_one_line_and_the_next_run_publishes(
    home: Path, warehouse
) -> None:
    """Whether the Ctrl-C lands in Python or inside a DuckDB query (which ends it with its own
    "Query interrupted"), the command says so in one line and exits 130."""
    for day in range(1, 12):
        warehouse.add(f"k{day}", datetime(2025, 3, day, 9), datetime(2025, 3, day, 10 + day % 4))
    warehouse.close()
    env = {**os.environ, "RESOLVE311_HOME": str(home), "RESOLVE311_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "resolve311", "metrics", "--full"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    wait_for(lambda: (home / "update.lock").exists() or proc.poll() is not None, timeout=60, interval=0.01)
    assert proc.poll() is None, "the refresh ended before it took the update lock"
    masks = signal_masks(proc.pid)  # a SIGINT blocked or ignored by inheritance would never arrive
    signalled = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    # A failure says what happened: a command that ran to its end with exit 0 (seen once, in a full
    # suite) either never got the signal (the masks) or lost the KeyboardInterrupt somewhere.
    seen = (
        f"exit {proc.returncode} {time.monotonic() - signalled:.2f} s after the signal; child {masks}, "
        f"this process {signal_masks(os.getpid())}; out={out!r} err={err!r}"
    )
    assert proc.returncode == EXIT_INTERRUPTED, seen
    assert err.strip().splitlines()[-1:] == ["error: interrupted"]
    assert "Traceback" not in err and "Query interrupted" not in err
    assert not (home / "serving.duckdb").exists()

    done = run(home, "metrics", "--full")
    assert done.returncode == 0, done.stderr
    assert (home / "serving.duckdb").exists()
