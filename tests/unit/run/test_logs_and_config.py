"""Logs never carry the token; `config` says where each value came from."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from resolve311.logs import JsonLineFormatter, RedactingFilter
from resolve311.settings import setting_origins

TOKEN = "tok-SECRET-4242"


def test_redacting_filter_scrubs_message_args_and_exceptions() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "GET %s failed", (f"?token={TOKEN}",), None)
    try:
        raise RuntimeError(f"bad header {TOKEN}")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert RedactingFilter([TOKEN]).filter(record)
    line = JsonLineFormatter().format(record)
    assert TOKEN not in line
    parsed = json.loads(line)
    assert parsed["message"] == "GET ?token=*** failed"
    assert "bad header ***" in parsed["exc"]


def test_setting_origins(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "r.toml"
    cfg.write_text("trailing_days = 5\n")
    monkeypatch.setenv("RESOLVE311_CONFIG", str(cfg))
    monkeypatch.setenv("RESOLVE311_PAGE_SIZE", "10")
    origins = setting_origins(port=9000)
    assert origins["port"] == "flag"
    assert origins["page_size"].startswith("environment")
    assert origins["trailing_days"].startswith("file")
    assert origins["schedule"] == "default"
    assert origins["home"].startswith("environment")


def test_config_command_redacts_token(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCRATA_APP_TOKEN", TOKEN)
    out = subprocess.run(
        [sys.executable, "-m", "resolve311", "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    assert TOKEN not in out
    assert data["app_token"] == {"value": "***", "origin": "environment (SOCRATA_APP_TOKEN)"}
    assert data["home"]["value"] == str(home)


def test_config_shows_what_the_source_decides(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOLVE311_SOURCE", "chicago")
    monkeypatch.delenv("RESOLVE311_SOCRATA_URL", raising=False)
    monkeypatch.delenv("RESOLVE311_TIMEZONE", raising=False)
    out = subprocess.run(
        [sys.executable, "-m", "resolve311", "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    assert data["timezone"] == {"value": "America/Chicago", "origin": "source chicago (catalog)"}
    assert data["socrata_url"]["value"] == "https://data.cityofchicago.org"


def test_bad_flag_is_one_line_error(home: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "resolve311", "up", "--schedule", "not a cron"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: invalid schedule")
    assert "Traceback" not in proc.stderr
