"""The demo's simulator starts in the past, with its outage a few simulated days ahead."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from resolve311.demo import DemoOptions, demo_settings, simulator_args
from resolve311.settings import Settings


def test_simulator_starts_before_the_real_date_with_an_outage_ahead() -> None:
    options = DemoOptions(today=date(2026, 11, 28), lead_days=30, outage_in_days=3, outage_days=1)
    args = simulator_args(options, "/tmp/sim")
    assert args[args.index("--today") + 1] == "2026-10-29"
    assert args[args.index("--down") + 1] == "2026-11-01..2026-11-01"


def test_demo_settings_keep_demo_data_apart(tmp_path: Path) -> None:
    base = Settings(home=tmp_path)
    demo = demo_settings(base, "http://127.0.0.1:1", DemoOptions(today=date(2026, 11, 28)))
    assert demo.home == tmp_path / "demo"
    assert demo.socrata_url == "http://127.0.0.1:1"
    assert demo.schedule.startswith("@every")
