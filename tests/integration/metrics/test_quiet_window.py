"""A window in which nothing was created, closed or open has no rows, while the others do.

The windows' tables are shaped for all windows at once (``window_tables.all_windows``); a quiet
window must still be left out of every table, as when each window was shaped on its own.
"""

from __future__ import annotations

from datetime import datetime

from resolve311.publish import refresh_and_publish

TABLES = ("scorecard", "heatmap_when", "heatmap_where", "km_curve")


def test_a_window_with_nothing_in_any_unit_has_no_rows(warehouse, settings, snap) -> None:
    # as-of Thu 2025-03-20 12:00: the last complete day (the 1-day window) is Wed 03-19; its units
    # are the Wednesdays before it and Wed 2024-03-20. Every request here lives Sun 03-16 → Mon 03-17.
    warehouse.add("dot1", datetime(2024, 3, 1, 9), datetime(2024, 3, 2, 9), agency="DOT")
    for i in range(6):
        warehouse.add(f"q{i}", datetime(2025, 3, 16, 9 + i), datetime(2025, 3, 17, 9), lat=40.7, lon=-73.99)
    warehouse.add("last", datetime(2025, 3, 20, 12), agency="DOT", complaint_type="Pothole")
    warehouse.commit()
    refresh_and_publish(settings, full=True)
    for table in TABLES:
        windows = {str(w) for (w,) in snap.rows(f'SELECT DISTINCT "window" FROM {table}')}
        assert windows == {"7d", "28d"}, table
    # the busy windows are complete: the 7-day window's recent week holds the six requests
    assert snap.score("created_per_day", group=("NYPD", "*", "*"), window="7d")["recent"] == 6 / 7
