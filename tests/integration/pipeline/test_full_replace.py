"""A full dataset replace at the source is reported, not silently re-downloaded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from resolve311.cli.exit_codes import EXIT_FAILURE, EXIT_OK

SIM_ARGS = ("--seed", "4", "--today", "2025-05-01", "--history-days", "6", "--scale", "0.01")


def replace_at_next_load(url: str) -> None:
    """The next day's load re-publishes every row (every :updated_at moves past the watermark)."""
    httpx.post(f"{url}/_sim/advance", params={"days": 1}, timeout=60).raise_for_status()
    httpx.post(f"{url}/_sim/replace", timeout=60).raise_for_status()


def test_full_replace_stops_the_run_until_allowed(
    cli: Any, warehouse: Any, simulator_factory: Callable[..., Any], tmp_path: Path
) -> None:
    sim = simulator_factory(*SIM_ARGS, "--data-dir", str(tmp_path / "s"))
    env = {"RESOLVE311_SOCRATA_URL": sim.url, "RESOLVE311_FULL_REPLACE_MIN_ROWS": "0"}
    assert cli("update", "--skip-metrics", env=env).returncode == EXIT_OK
    before = warehouse("SELECT count(*), max(source_updated_at) FROM requests")

    replace_at_next_load(sim.url)
    replaced = cli("update", "--json", "--skip-metrics", env=env)
    assert replaced.returncode == EXIT_FAILURE
    report = json.loads(replaced.stdout)
    assert report["full_replace"] is True
    assert "--allow-full-replace" in report["error"]
    assert warehouse("SELECT count(*), max(source_updated_at) FROM requests") == before
    assert warehouse("SELECT full_replace FROM runs ORDER BY started_at DESC LIMIT 1") == [(True,)]

    allowed = cli("update", "--json", "--skip-metrics", "--allow-full-replace", env=env)
    assert allowed.returncode == EXIT_OK, allowed.stderr
    assert warehouse("SELECT max(source_updated_at) > ? FROM requests", [before[0][1]]) == [(True,)]


def test_a_small_dataset_changing_entirely_is_not_a_replace(
    cli: Any, simulator_factory: Callable[..., Any], tmp_path: Path
) -> None:
    sim = simulator_factory(*SIM_ARGS, "--data-dir", str(tmp_path / "s"))
    env = {"RESOLVE311_SOCRATA_URL": sim.url}  # default minimum: 10,000 changed rows
    assert cli("update", "--skip-metrics", env=env).returncode == EXIT_OK
    replace_at_next_load(sim.url)
    again = cli("update", "--json", "--skip-metrics", env=env)
    assert again.returncode == EXIT_OK, again.stderr
    assert json.loads(again.stdout)["full_replace"] is False
