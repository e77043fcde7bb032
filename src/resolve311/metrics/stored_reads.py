"""What a refresh reads from stored rows rather than computes, in a thread of its own.

The daily and weekly series and the flagger's history rate (``metric_day_counts``), ``agencies``
(``metric_agency_days``), the cross-city tables (the window rows) and the calibration's panel
(``metric_panel_days``, ``metric_panel_hist``), with the flag calibrated on that panel: they
need the day tables brought up to date, not the windowed queries, so ``refresh.py`` runs them
on a cursor of their own while the main thread shapes the windows' tables.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

import duckdb
import pandas as pd

from resolve311.metrics import agencies, calibration, crosscity, daily, panel, window_rows
from resolve311.metrics.window_tables import Context
from resolve311.metrics.windows import dnum
from resolve311.settings import Settings


def calibration_of(
    days: panel.Panel | None, ctx: Context, settings: Settings
) -> calibration.Calibration | None:
    """The flag calibrated on each agency's history (``days``: :func:`panel_span`'s)."""
    if days is None:
        return None
    first, last = panel_span(ctx)
    params = calibration.CalibrationParams(
        as_of_index=last - first,
        history_index=dnum(ctx.history_start) - first,
        target_rate=settings.anomaly_target_rate,
        floor=settings.anomaly_threshold,
        min_group_size=settings.min_group_size,
    )
    return calibration.calibrate(days, params)


def calibrated(
    cal: calibration.Calibration | None, tables: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The calibration table, and the scorecard with thresholds and p-values."""
    if cal is None:
        return {"calibration": pd.DataFrame(columns=calibration.COLUMNS)}
    return {"scorecard": calibration.apply(tables["scorecard"], cal), "calibration": cal.table}


def panel_span(ctx: Context) -> tuple[int, int]:
    """The first and last day numbers of the calibration's panel."""
    last = dnum(ctx.as_of_date)
    return max(dnum(ctx.history_start), last - calibration.PANEL_LOOKBACK_DAYS), last


def history_tables(
    con: duckdb.DuckDBPyConnection, source: str, ctx: Context
) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """The daily series, and the flagger's false-alarm rate on history (meta)."""
    matrix = daily.day_matrix(con, source, ctx.history_start, ctx.as_of_date)
    rate, evaluated = daily.anomaly_rate(matrix, ctx.anomaly_threshold)
    meta = {
        "anomaly_rate_history": None if rate is None else f"{rate:.6f}",
        "anomaly_rate_agency_days": str(evaluated),
    }
    return daily.day_series(matrix), meta


@dataclass(frozen=True)
class StoredReads:
    """What :func:`read` reads from stored rows."""

    tables: dict[str, pd.DataFrame]  # the daily and weekly series, agencies, the cross-city tables
    meta: dict[str, str | None]  # the flagger's false-alarm rate on history
    calibration: calibration.Calibration | None  # calibrated on the panel's days


def read(
    cursor: duckdb.DuckDBPyConnection,
    counted: Future[None],
    of: tuple[str, Settings],
    ctx: Context,
    reach: tuple[int, bool],
) -> StoredReads:
    """The tables and the panel read from stored rows (the series and the panel once the day tables
    are ``counted``), on their own cursor, in another thread (it cannot see the connection's
    temporary views: the window rows are read by their query), and the flag calibrated on the panel
    there too, while the main thread shapes the windows' tables. ``of``: the source and its settings;
    ``reach``: the window rows' first day, and whether ``type_days`` is counted here (else it is
    kept with the windowed counts)."""
    (source, settings), (since, with_type_days) = of, reach
    counted.result()
    with cursor:
        days_series, meta = history_tables(cursor, source, ctx)
        week = daily.week_series(cursor, source, ctx.history_start, ctx.as_of_date)
        rows = f"({window_rows.input_sql(source, since)})"
        tables = {
            "series": pd.concat([days_series, week], ignore_index=True),
            "agencies": agencies.agencies(cursor, source),
            **crosscity.tables(cursor, ctx.as_of_date, rows, with_type_days=with_type_days),
        }
        days = panel.load_panel(cursor, source, *panel_span(ctx))
    return StoredReads(tables, meta, calibration_of(days, ctx, settings))
