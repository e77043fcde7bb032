"""The demo's history is long enough for the year-earlier comparison of every window, backlog included."""

from __future__ import annotations

from datetime import date, timedelta

from resolve311.demo import DemoOptions
from resolve311.metrics.window_tables import Context, backlog_units, covered_units
from resolve311.metrics.windows import WINDOW_DAYS, YEAR_UNIT


def test_every_window_has_its_year_earlier_unit_and_backlog() -> None:
    options = DemoOptions(today=date(2026, 11, 30))
    history_start = options.sim_start - timedelta(days=options.history_days)
    as_of_date = options.sim_start - timedelta(days=1)  # the first data the demo shows
    ctx = Context(as_of_date, 0, history_start, "America/New_York", 0.01, 3.5, 20)
    for days in WINDOW_DAYS.values():
        assert YEAR_UNIT in covered_units(ctx, days)
        assert YEAR_UNIT in backlog_units(ctx, days)
