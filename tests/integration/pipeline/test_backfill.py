"""`backfill`: a created-date range through the landing log, resumable chunk by chunk."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from resolve311.pipeline import run_backfill, run_update
from resolve311.settings import load_settings

TODAY = date(2020, 1, 6)
SINCE, UNTIL = date(2019, 12, 28), date(2020, 1, 4)  # straddles the two NYC datasets


def created_in_range(rows: list[dict[str, Any]]) -> set[str]:
    return {
        str(r["unique_key"])
        for r in rows
        if SINCE.isoformat() <= str(r["created_date"])[:10] < UNTIL.isoformat()
    }


def test_backfill_resumes_after_an_interruption_and_pulls_exactly_the_range(
    home: Path, tmp_path: Path, simulator_factory: Any, oracle: Any, warehouse: Any
) -> None:
    sim = simulator_factory(
        "--seed", "8", "--today", TODAY.isoformat(), "--history-days", "16", "--scale", "0.01",
        "--faults", "503:0.05,empty:0.05,truncate:0.05", "--data-dir", str(tmp_path / "s"),
    )  # fmt: skip
    settings = load_settings(socrata_url=sim.url, page_size=40, retry_base_s=0.01, retry_max_s=0.05)
    seen: list[tuple[int, int, str]] = []

    def stop_after_three(done: int, total: int, label: str) -> None:
        seen.append((done, total, label))
        if done == 3:
            raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt):
        run_backfill(settings, SINCE, UNTIL, stop_after_three, refresh=False, chunk_days=2)
    assert warehouse("SELECT status FROM runs") == [("interrupted",)]
    assert warehouse("SELECT count(*) FROM backfill_chunks") == [(3,)]

    resumed: list[str] = []
    report = run_backfill(
        settings, SINCE, UNTIL, lambda d, t, label: resumed.append(label), refresh=False, chunk_days=2
    )
    assert report.status == "success"
    assert len(resumed) == seen[0][1]  # every chunk is reported ...
    assert report.counts.rows_unchanged == 0  # ... but the three done ones were not pulled again
    assert {r[0] for r in warehouse("SELECT unique_key FROM requests")} == created_in_range(
        oracle.rows(sim.url)
    )
    assert {r[0] for r in warehouse("SELECT DISTINCT dataset FROM requests")} == {"76ig-c548", "erm2-nwe9"}

    # the backfill set the watermarks, so an update continues from there instead of pulling everything
    assert warehouse("SELECT count(*) FROM source_state WHERE watermark IS NOT NULL") == [(2,)]
    update = run_update(settings, refresh=False)
    assert update.status == "success"
    assert update.counts.rows_new < len(oracle.rows(sim.url)) - len(created_in_range(oracle.rows(sim.url)))


def test_backfill_command_and_bad_dates(cli: Any, simulator_factory: Any, tmp_path: Path) -> None:
    sim = simulator_factory("--seed", "8", "--today", "2024-02-10", "--history-days", "5", "--scale", "0.01",
                            "--data-dir", str(tmp_path / "s"))  # fmt: skip
    env = {"RESOLVE311_SOCRATA_URL": sim.url}
    ok = cli(
        "backfill", "--since", "2024-02-06", "--until", "2024-02-09", "--json", "--skip-metrics", env=env
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rows_new"] > 0
    bad = cli("backfill", "--since", "last tuesday", env=env)
    assert bad.returncode == 2
    assert "--since: not a date" in bad.stderr
    assert "Traceback" not in bad.stderr
    backwards = cli("backfill", "--since", "2024-02-09", "--until", "2024-02-01", env=env)
    assert backwards.returncode == 2
    assert "must be after" in backwards.stderr


def test_a_load_failing_mid_transaction_rolls_back_and_the_rerun_completes(
    home: Path, tmp_path: Path, simulator_factory: Any, oracle: Any, warehouse: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from resolve311.pipeline import backfill

    sim = simulator_factory(
        "--seed", "9", "--today", TODAY.isoformat(), "--history-days", "16", "--scale", "0.01",
        "--data-dir", str(tmp_path / "s"),
    )  # fmt: skip
    settings = load_settings(socrata_url=sim.url, page_size=40, backfill_workers=2)
    real_load, loads = backfill.load_landed, []

    def load_then_fail(*args: Any) -> Any:  # a load that fails inside the writer's transaction
        loads.append(1)
        if len(loads) == 4:
            raise RuntimeError("injected: the disk went away")
        return real_load(*args)

    monkeypatch.setattr(backfill, "load_landed", load_then_fail)
    failed = run_backfill(settings, SINCE, UNTIL, refresh=False, chunk_days=2)
    assert failed.status == "failed"
    # the open transaction (several windows, three loaded pages) was rolled back as a whole
    assert warehouse("SELECT count(*) FROM requests") == [(0,)]
    assert warehouse("SELECT count(*) FROM backfill_chunks") == [(0,)]

    monkeypatch.setattr(backfill, "load_landed", real_load)
    report = run_backfill(settings, SINCE, UNTIL, refresh=False, chunk_days=2)
    assert report.status == "success"
    assert {r[0] for r in warehouse("SELECT unique_key FROM requests")} == created_in_range(
        oracle.rows(sim.url)
    )
