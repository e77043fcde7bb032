"""The calibration panel read from the stored day tables equals a direct count over the requests."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np

from resolve311.metrics import staging
from resolve311.metrics.panel import ALL, load_panel
from resolve311.metrics.refresh import refresh_metrics
from resolve311.metrics.windows import dnum

START = datetime(2024, 1, 1, 9, 0)


def _fill(warehouse) -> None:
    """Two agencies, 200 days: open, closed, closed without a time, closed before created (invalid)."""
    for day in range(200):
        created = START + timedelta(days=day)
        for i, agency in enumerate(("NYPD", "HPD", "HPD")):
            key = f"{day}-{i}"
            kind = (day + i) % 5
            if kind == 0:
                warehouse.add(key, created, agency=agency)  # still open
            elif kind == 1:
                warehouse.add(key, created, agency=agency, status="Closed")  # closed, no time
            elif kind == 2:
                warehouse.add(key, created, created - timedelta(hours=2), agency=agency)  # invalid close
            else:
                warehouse.add(key, created, created + timedelta(hours=7 * day % 90 + 1), agency=agency)
    warehouse.commit()


def _open_at_midnight_after(con: duckdb.DuckDBPyConnection, day: int) -> dict[str, int]:
    """Requests created by the end of ``day`` and not closed by then (final data), counted directly."""
    rows = con.execute(
        """SELECT agency, count(*) FROM metric_input
           WHERE created_dnum <= $d AND NOT (closed_dnum IS NULL AND is_closed)
             AND (closed_dnum IS NULL OR closed_dnum > $d)
           GROUP BY GROUPING SETS ((agency), ())""",
        {"d": day},
    ).fetchall()
    return {(agency or ALL): n for agency, n in rows}


def test_the_stored_panel_backlog_is_the_count_of_open_requests(settings, warehouse) -> None:
    _fill(warehouse)
    warehouse.close()
    refresh_metrics(settings)
    first, last = dnum(START.date()) + 120, dnum(START.date()) + 199
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        staging.create_input_views(con, settings.source)
        panel = load_panel(con, settings.source, first, last)
        assert panel is not None
        for offset in (0, 40, 79):
            direct = _open_at_midnight_after(con, first + offset)
            for g, agency in enumerate(panel.groups):
                assert panel.counts["backlog"][g, offset] == direct[agency], (agency, offset)
        created = con.execute(
            "SELECT count(*) FROM metric_input WHERE created_dnum BETWEEN ? AND ?", [first, last]
        ).fetchall()[0][0]
    assert panel.groups == [ALL, "HPD", "NYPD"]
    assert np.sum(panel.counts["created"][0]) == created
