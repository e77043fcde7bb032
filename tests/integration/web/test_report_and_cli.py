"""`resolve311 report` and the web commands' argument handling."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from e2e.snapshot_factory import HOSTILE_NAME


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESOLVE311_HOME": str(home), "RESOLVE311_CONFIG": str(home / "none.toml")}
    return subprocess.run(
        [sys.executable, "-m", "resolve311", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_report_is_one_standalone_file_with_plotly_embedded_and_escaped_text(
    snapshot_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "review.html"
    result = run_cli("report", "--date", "2026-11-27", "--out", str(out), home=snapshot_home)
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "Daily review — 2026-11-27" in text
    assert text.count("Plotly.newPlot") >= 4
    assert re.search(r"<script[^>]+src=", text) is None  # nothing loaded from elsewhere
    assert HOSTILE_NAME not in text and "&lt;img src=x" in text
    # who is slipping, in words, with the flag's measured false-alarm rates
    assert re.search(r"summary-headline'>\d+ flagged values? at \d+ agenc", text)
    assert "by chance" in text and "<li><b>" in text and "n = " in text
    assert re.search(r"Measured false-alarm rate per agency-day .*Volume /day \d\.\d%", text)


@pytest.mark.parametrize(
    "args,message",
    [
        (("report", "--date", "2020-01-01", "--out", "x.html"), "not 2020-01-01"),
        (("report", "--date", "yesterday", "--out", "x.html"), "YYYY-MM-DD"),
        (("serve", "--port", "70000"), "port"),
    ],
)
def test_bad_arguments_give_one_line_and_a_nonzero_exit(
    snapshot_home: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(*args, home=snapshot_home)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_report_without_a_snapshot_says_so(tmp_path: Path) -> None:
    result = run_cli("report", "--out", str(tmp_path / "r.html"), home=tmp_path / "empty")
    assert result.returncode == 1
    assert "no serving snapshot" in result.stderr and "Traceback" not in result.stderr
