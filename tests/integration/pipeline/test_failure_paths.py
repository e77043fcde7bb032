"""Must show: every failure is one `error:` line with the real cause and a documented exit code; a
run that could not publish is `failed` (never `success`) and the next run publishes; temporary
snapshot files of dead writers are removed; nothing unexpected prints a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from resolve311.cli.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_STORAGE, EXIT_USAGE

SIM_ARGS = ("--seed", "4", "--today", "2025-05-01", "--history-days", "3", "--scale", "0.01")


def _query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_run_that_cannot_publish_is_failed_and_the_next_run_publishes_it(
    cli: Any, home: Path, simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(*SIM_ARGS, "--data-dir", str(tmp_path / "s"))
    env = {"RESOLVE311_SOCRATA_URL": sim.url}
    (home / "serving.duckdb").mkdir(parents=True)  # the snapshot cannot be put in place
    blocked = cli("update", "--json", env=env)
    assert blocked.returncode == EXIT_STORAGE, blocked.stderr
    errors = [ln for ln in blocked.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: metrics failed: storage error:")
    assert "Is a directory" in blocked.stderr and "Traceback" not in blocked.stderr
    report = json.loads(blocked.stdout)
    assert report["status"] == "failed" and report["error"].startswith("metrics failed:")
    warehouse = home / "warehouse.duckdb"
    assert _query(warehouse, "SELECT status FROM runs") == [("failed",)]
    stages = dict(_query(warehouse, "SELECT stage, status FROM run_stages"))
    assert stages == {"metrics": "failed", "publish": "failed"}
    assert [p.name for p in home.iterdir() if ".tmp" in p.name] == []

    (home / "serving.duckdb").rmdir()
    again = cli("update", "--json", env=env)  # nothing new at the source, but the snapshot is behind
    assert again.returncode == EXIT_OK, again.stderr
    assert json.loads(again.stdout)["metrics"] == "refreshed"
    snapshot = home / "serving.duckdb"
    assert _query(snapshot, "SELECT last_run_status FROM status") == [("success",)]
    assert _query(snapshot, "SELECT count(*) FROM scorecard")[0][0] > 0
    meta = dict(_query(snapshot, "SELECT key, value FROM meta"))
    assert meta["metrics_status"] == "published"

    third = cli("update", "--json", env=env)  # now nothing is behind: nothing to refresh
    assert third.returncode == EXIT_OK, third.stderr
    assert json.loads(third.stdout)["metrics"] == "nothing to refresh"


def test_temporary_snapshot_files_of_dead_writers_are_removed(cli: Any, home: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    home.mkdir(parents=True)
    stale = [home / f".serving.duckdb.{dead_pid}.tmp", home / f".serving.duckdb.{dead_pid}.tmp.wal"]
    live = home / f".serving.duckdb.{os.getpid()}.tmp"  # a writer still at work: left alone
    for path in [*stale, live]:
        path.write_bytes(b"x" * 1024)
    done = cli("metrics")
    assert done.returncode == EXIT_OK, done.stderr
    assert [p.exists() for p in stale] == [False, False]
    assert live.exists()


def test_an_unexpected_error_is_one_line_and_the_traceback_only_with_debug(tmp_path: Path) -> None:
    program = (
        "from resolve311.cli import app, main\n"
        "@app.command('boom')\n"
        "def boom() -> None:\n"
        "    raise RuntimeError('kaboom: SEKRET-token-0007')\n"
        "import sys; main(sys.argv[1:])\n"
    )
    env = {**os.environ, "SOCRATA_APP_TOKEN": "SEKRET-token-0007"}
    quiet = subprocess.run([sys.executable, "-c", program, "boom"], capture_output=True, text=True, env=env)
    assert quiet.returncode == EXIT_FAILURE
    assert quiet.stderr.splitlines()[0] == "error: RuntimeError: kaboom: ***"
    assert "Traceback" not in quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-c", program.replace("main(sys.argv[1:])", "main(['--debug', 'boom'])")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert loud.returncode == EXIT_FAILURE
    assert "Traceback" in loud.stderr and "kaboom" in loud.stderr and "SEKRET" not in loud.stderr


def test_a_broken_config_file_is_a_usage_error(cli: Any, home: Path, tmp_path: Path) -> None:
    config = Path(os.environ["RESOLVE311_CONFIG"])
    config.write_text("home = [unclosed\n")
    result = cli("status")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.strip() == f"error: {config}: not valid TOML: Invalid value (at line 1, column 9)"


def test_a_failed_metrics_stage_is_explained_by_the_dashboard_and_the_api(cli: Any, home: Path) -> None:
    """The load succeeds, the metrics stage fails for real (Spark cannot start its JVM): the run is
    `failed`, and the published status says why the scorecard is empty, until a run succeeds."""
    pytest.importorskip("pyspark")
    from helpers import REAL_FILES
    from resolve311.settings import Settings
    from resolve311.web.app import create_app
    from resolve311.web.components import freshness_banner
    from resolve311.web.snapshot import SnapshotReader

    broken = {"RESOLVE311_ENGINE": "spark", "RESOLVE311_SPARK_DRIVER_MEMORY": "nonsense"}
    run = cli("import", "--json", str(REAL_FILES[2]), env=broken)
    assert run.returncode == EXIT_FAILURE, run.stderr
    report = json.loads(run.stdout)
    assert report["status"] == "failed" and report["rows_new"] > 0
    assert report["error"].startswith("metrics failed: PySparkRuntimeError")

    def api() -> tuple[dict[str, Any], str]:
        """/api/status and the freshness banner's text (the reader is closed: DuckDB caches files by path)."""
        reader = SnapshotReader(home / "serving.duckdb")
        try:
            response = create_app(Settings(home=home), reader).server.test_client().get("/api/status")
            banner = str(freshness_banner(reader))
        finally:
            reader.close()
        assert response.status_code == 200
        return dict(response.get_json()), banner

    status, banner = api()
    assert "Metrics not up to date" in banner and "JAVA_GATEWAY_EXITED" in banner
    assert status["last_run"]["status"] == "failed"
    assert status["metrics"]["status"] == "failed" and "JAVA_GATEWAY_EXITED" in status["metrics"]["note"]
    assert _query(home / "serving.duckdb", "SELECT requests_total FROM status")[0][0] > 0
    assert _query(home / "serving.duckdb", "SELECT count(*) FROM scorecard") == [(0,)]

    fixed = cli("import", "--json", str(REAL_FILES[2]))  # nothing new, but the snapshot is behind
    assert fixed.returncode == EXIT_OK, fixed.stderr
    status, banner = api()
    assert status["metrics"] == {"status": "published", "note": None}
    assert "Metrics not up to date" not in banner
    assert _query(home / "serving.duckdb", "SELECT count(*) FROM scorecard")[0][0] > 0
