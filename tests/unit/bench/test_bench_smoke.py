"""`python -m bench --quick` runs every benchmark end to end and writes each section (no timings checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# One worker runs every test of the quick report (a module fixture), so it is built once, not per worker.
# The opt-in sections (scale, metrics_history) are separate runs with no shared fixture: they stay out
# of that group, so the other worker takes them instead of waiting behind the quick report.
ON_THE_QUICK_REPORT = pytest.mark.xdist_group("bench-smoke")
SECTIONS = {
    "## 1. Extract": "| client | status | rows received |",
    "## 2. Load": "| contender | format | rows in |",
    "## 3. Metrics": "| computation | engine | what it computes |",
    "## 4. Web": "| view | request | n | p50 ms | p95 ms |",
    "## 5. Web under load": "| server | users | requests | failed |",
    "## 6. Publish": "| what | seconds | peak RSS MB | MB written |",
    "## 6b. PostgreSQL publish": "| snapshot | seconds | peak RSS MB | snapshot MB | PostgreSQL MB |",
    "## 7. Detection": "| rule | false alarms per agency-metric-window-day |",
    "## 8. Bulk import": "| contender | rows in | rows stored | seconds | rows/s |",
}


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if k != "SOCRATA_APP_TOKEN"}
    env["RESOLVE311_CONFIG"] = str(tmp / "none.toml")
    out = tmp / "BENCHMARKS.md"
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--cache",  # as make bench runs: the sections that build the same warehouse build it once
        str(tmp / "cache"),
        "--out",
        str(out),
        "--work",
        str(tmp / "work"),
        "--results",
        str(tmp / "results"),
    ]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return out.read_text()


@pytest.mark.slow
@ON_THE_QUICK_REPORT
def test_header_names_the_machine_and_the_command(quick_report: str) -> None:
    for item in (
        "- CPU:",
        "- RAM:",
        "- OS:",
        "- Python:",
        "- Libraries: duckdb",
        "command: `python -m bench",
        "- Measured:",
        "- Code: resolve311 at commit",
    ):
        assert quick_report.count(item) == len(SECTIONS), item


@pytest.mark.slow
@ON_THE_QUICK_REPORT
def test_every_benchmark_has_its_section_and_table(quick_report: str) -> None:
    for title, table_header in SECTIONS.items():
        assert title in quick_report
        assert table_header in quick_report
    assert "FAILED" not in quick_report


def client_cells(report: str, caption: str, client: str) -> list[str]:
    """The cells of ``client``'s row in the table whose caption contains ``caption``."""
    table = report.split(caption)[1].split("\n\n", 2)[1]
    line = next(line for line in table.splitlines() if line.startswith(f"| {client}"))
    return [c.strip() for c in line.strip("|").split("|")]


BACKFILLS = ("resolve311 backfill (4 workers)", "resolve311 backfill (1 worker)")


@pytest.mark.slow
@ON_THE_QUICK_REPORT
@pytest.mark.parametrize(
    ("caption", "clients"),
    [
        ("*Faults on", ("resolve311 update", *BACKFILLS)),  # resolve311 complete with faults on
        ("every data request answered after a wait of", (*BACKFILLS, "sodapy get_all")),  # the latency run
    ],
)
def test_extract_pulls_complete(quick_report: str, caption: str, clients: tuple[str, ...]) -> None:
    for client in clients:
        cells = client_cells(quick_report, caption, client)
        assert cells[1] == "success", client
        assert cells[5] == "0" or not client.startswith("resolve311"), client  # missing keys: sodapy may
    assert "With the portal's query time" in quick_report


@pytest.mark.slow
@ON_THE_QUICK_REPORT
def test_extract_compares_with_sodapys_rows_written_into_duckdb(quick_report: str) -> None:
    cells = client_cells(quick_report, "*No faults, pages of", "sodapy get_all, then a DuckDB table")
    assert cells[1] == "success"
    assert int(cells[3].replace(",", "")) > 0  # distinct keys read back from its table
    assert "The naive way to have the rows in a database" in quick_report


@pytest.mark.slow
@ON_THE_QUICK_REPORT
def test_extract_shows_the_simulators_cpu_and_requests_per_client(quick_report: str) -> None:
    section = quick_report.split("## 1. Extract")[1].split("## 2.")[0]
    header = next(line for line in section.splitlines() if line.startswith("| client |"))
    names = [c.strip() for c in header.strip("|").split("|")]
    server, requests = names.index("server CPU s"), names.index("requests")
    rows = [line for line in section.splitlines() if line.startswith("| resolve311 backfill (4")]
    assert len(rows) == 3  # the clean, the faulty and the latency run
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[server].replace(",", "")) > 0 and int(cells[requests].replace(",", "")) > 0


@pytest.mark.slow
@ON_THE_QUICK_REPORT
def test_metrics_engines_agree(quick_report: str) -> None:
    metrics = quick_report.split("## 3. Metrics")[1].split("## 4.")[0]
    assert "created/day: 0 of" in metrics
    assert "0 of 0" not in metrics
    assert "| incremental refresh after 1 new day | DuckDB (Ibis) |" in metrics


@pytest.mark.slow
@ON_THE_QUICK_REPORT
def test_publish_updates_the_lake_incrementally(quick_report: str) -> None:
    publish = quick_report.split("## 6. Publish")[1]
    assert "| lake: update after one day (incremental) |" in publish
    assert "incremental v2" in publish and "full v1" in publish


def test_unknown_benchmark_name_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "invalid choice: 'nope'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_run_starts_from_empty_section_folders_so_no_section_reuses_an_earlier_runs_output(
    tmp_path: Path,
) -> None:
    """Sections reuse a sibling's output of the same run (web: the metrics snapshot; 6b: section 6's
    stand-in); a ``--work`` folder kept from an earlier run must not hand them its leftovers."""
    work = tmp_path / "work"
    stale = work / "publish" / "grown-home" / "grown.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("an earlier run's stand-in")
    env = {k: v for k, v in os.environ.items() if k != "SOCRATA_APP_TOKEN"}
    env["RESOLVE311_CONFIG"] = str(tmp_path / "none.toml")
    cmd = [sys.executable, "-m", "bench", "--quick", "--no-cache", "--only", "detection", "--work", str(work)]
    cmd += ["--out", str(tmp_path / "B.md"), "--results", str(tmp_path / "results")]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (work / "publish").exists()
    assert (work / "detection").is_dir()


@pytest.fixture(scope="module")
def quick_scale(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """``--quick --only scale`` (the opt-in section): (its section, the assembled report)."""
    tmp = tmp_path_factory.mktemp("scale")
    env = {
        k: v for k, v in os.environ.items() if k not in ("SOCRATA_APP_TOKEN", "RESOLVE311_BENCH_SCALE_ROWS")
    }
    env["RESOLVE311_CONFIG"] = str(tmp / "none.toml")
    out, results = tmp / "BENCHMARKS.md", tmp / "results"
    cmd = [sys.executable, "-m", "bench", "--quick", "--only", "scale", "--out", str(out)]
    cmd += ["--work", str(tmp / "work"), "--results", str(results)]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return (results / "scale.md").read_text(), out.read_text()


@pytest.mark.slow
def test_scale_section_builds_refreshes_advances_and_serves(quick_scale: tuple[str, str]) -> None:
    section, report = quick_scale
    assert "## 9. Scale" in section and "## 9. Scale" in report
    assert "FAILED" not in section
    steps = section.split("| step |")[1].split("\n\n")[0]
    for step in (
        "resolve311 import of both exports",
        "resolve311 metrics --full (full,",
        "one day of changes",
    ):
        line = next(row for row in steps.splitlines() if step in row)
        assert line.rstrip().endswith("| — |"), line  # no error
    assert "resolve311 metrics (after the day) (" in steps
    assert "| Overview | open page / |" in section
    assert "- Code: resolve311 at commit" in section and "Disk after the day:" in section


def test_the_scale_section_is_opt_in() -> None:
    from bench.__main__ import BENCHMARKS, OPT_IN

    assert "scale" in OPT_IN and "scale" not in BENCHMARKS


@pytest.mark.slow
def test_metrics_history_section_refreshes_each_history_length(tmp_path: Path) -> None:
    """``--quick --only metrics_history`` (opt-in): full and incremental refresh per history length."""
    env = {k: v for k, v in os.environ.items() if k != "SOCRATA_APP_TOKEN"}
    env["RESOLVE311_CONFIG"] = str(tmp_path / "none.toml")
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "bench", "--quick", "--no-cache", "--only", "metrics_history"]
    cmd += ["--out", str(tmp_path / "B.md"), "--work", str(tmp_path / "work"), "--results", str(results)]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    section = (results / "metrics_history.md").read_text()
    assert "| history | requests | refresh | days recomputed |" in section
    assert "| 2 years |" in section and "incremental after 1 day" in section
    assert "Incremental == full at the shortest history: 0 of" in section
    # each refresh is run twice in --quick, full and incremental alternated: the median and both runs
    assert "| runs | each run's seconds |" in section
    rows = [line for line in section.splitlines() if line.startswith(("| 1 years |", "| 2 years |"))]
    assert len(rows) == 4
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        runs, each = int(cells[8]), [float(s) for s in cells[9].split(", ")]
        assert runs == 2 and len(each) == 2
        assert float(cells[4].replace(",", "")) == pytest.approx(
            sorted(each)[0] / 2 + sorted(each)[1] / 2, abs=0.011
        )
    assert "each alternated pair (full, then incremental): " in section
