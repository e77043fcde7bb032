"""Must show: every writer takes the one lock and, refused, exits 75 naming the holder; `status` and
`export` work while an update holds the warehouse; `import-sla` of a non-SLA file changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from helpers import REAL_FILES, wait_for
from resolve311.cli.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE
from resolve311.warehouse.lock import read_holder, update_lock

SIM_ARGS = ("--seed", "4", "--today", "2025-05-01", "--history-days", "3", "--scale", "0.01")
SLA_FILE = Path(__file__).parents[1] / "metrics" / "data" / "sla_cs9t-e3x8.json"

WRITERS = [
    ("update", "--skip-metrics"),
    ("backfill", "--since", "2025-04-01", "--skip-metrics"),
    ("import", "--skip-metrics", str(REAL_FILES[0])),
    ("rebuild", "--skip-metrics"),
    ("metrics",),
    ("import-sla", str(SLA_FILE)),
]


@pytest.mark.parametrize("args", WRITERS, ids=[w[0] for w in WRITERS])
def test_every_writer_refused_by_the_lock_exits_75_and_names_the_holder(
    cli: Any, home: Path, args: tuple[str, ...]
) -> None:
    with update_lock(home / "update.lock", command="metrics"):  # e.g. a `resolve311 metrics --full`
        refused = cli(*args, env={"RESOLVE311_SOCRATA_URL": "http://127.0.0.1:9"})
    assert refused.returncode == EXIT_UNAVAILABLE, refused.stderr
    assert refused.stderr.count("error:") == 1 and "Traceback" not in refused.stderr
    assert f"another writer holds the warehouse (pid {os.getpid()}, `metrics`, since 20" in refused.stderr


def _count(home: Path, sql: str) -> object:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        row = con.execute(sql).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def test_during_an_update_metrics_waits_its_turn_and_status_and_export_still_answer(
    cli: Any, home: Path, simulator_factory: Any, tmp_path: Path
) -> None:
    good = simulator_factory(*SIM_ARGS, "--data-dir", str(tmp_path / "a"))
    first = cli("update", "--json", env={"RESOLVE311_SOCRATA_URL": good.url})
    assert first.returncode == EXIT_OK, first.stderr
    stored = _count(home, "SELECT count(*) FROM requests")

    stalled = simulator_factory(
        *SIM_ARGS, "--faults", "timeout:1.0", "--stall-seconds", "300", "--data-dir", str(tmp_path / "b")
    )
    env = {**os.environ, "RESOLVE311_SOCRATA_URL": stalled.url, "RESOLVE311_REQUEST_TIMEOUT_S": "280"}
    writer = subprocess.Popen(
        [sys.executable, "-m", "resolve311", "update"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    export = None
    try:
        lock = home / "update.lock"
        wait_for(lambda: read_holder(lock).startswith(f"pid {writer.pid},"), timeout=60)

        metrics = cli("metrics")
        assert metrics.returncode == EXIT_UNAVAILABLE
        assert f"(pid {writer.pid}, `update`, since" in metrics.stderr and "Traceback" not in metrics.stderr

        status = cli("status", "--json")
        assert status.returncode == EXIT_OK, status.stderr
        summary = json.loads(status.stdout)
        assert summary["from"] == "snapshot" and "busy" in summary
        assert summary["counts"]["requests"] == stored
        assert summary["runs"][0]["status"] == "success"  # the last committed, published run
        text = cli("status")
        assert text.returncode == EXIT_OK and "showing the last published status" in text.stdout

        out = tmp_path / "requests.csv"
        impatient = cli("export", "--table", "requests", "--format", "csv", "--out", str(out), "--wait", "0")
        assert impatient.returncode == EXIT_UNAVAILABLE
        assert "the warehouse is busy" in impatient.stderr and "Traceback" not in impatient.stderr
        export = subprocess.Popen(
            [sys.executable, "-m", "resolve311", "export", "--table", "requests", "--format", "csv",
             "--out", str(out), "--wait", "300"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert export.poll() is None
    finally:
        writer.terminate()  # the update ends (recorded 'interrupted'); the export then reads
        writer.wait(timeout=120)
    assert export is not None
    stdout, stderr = export.communicate(timeout=300)
    assert export.returncode == EXIT_OK, stderr
    assert stdout.strip() == f"wrote {stored} rows to {out}"


def test_import_sla_of_a_file_without_targets_is_refused_and_keeps_the_loaded_ones(
    cli: Any, home: Path, tmp_path: Path
) -> None:
    loaded = cli("import-sla", str(SLA_FILE))
    assert loaded.returncode == EXIT_OK, loaded.stderr
    before = _count(home, "SELECT count(*) FROM sla_targets")
    assert before == 3
    empty_list = tmp_path / "empty.json"
    empty_list.write_text("[]")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    for bad in (REAL_FILES[0], empty_list, binary):
        refused = cli("import-sla", str(bad))
        assert refused.returncode == EXIT_FAILURE, refused.stderr
        assert refused.stderr.startswith("error:") and refused.stderr.count("\n") == 1
        assert "Traceback" not in refused.stderr
        assert _count(home, "SELECT count(*) FROM sla_targets") == before
