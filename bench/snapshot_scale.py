"""Grow a real serving snapshot to the history a warehouse of N requests would have.

Every snapshot table is sized by groups × windows (scorecard, heat maps, KM) or
by groups × days (``series``: 400 days, then weeks over the whole history); none
holds a row per request. So a snapshot for 40M requests (about 11.5 years of NYC
at ~9,500 a day) differs from one for 3.5M only in the number of weekly series
rows (and a full 400 daily rows per group). This module extends ``series``
backwards by repeating its own weeks, and raises the totals to match.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

DAY_SERIES_DAYS = 400


def _span(con: duckdb.DuckDBPyConnection, period: str) -> tuple[Any, Any]:
    return tuple(
        con.execute("SELECT min(date), max(date) FROM series WHERE period = ?", [period]).fetchall()[0]
    )


def _extend(con: duckdb.DuckDBPyConnection, period: str, days_wanted: int, step_days: int) -> None:
    """Prepend shifted copies of ``period`` rows until they cover ``days_wanted`` days."""
    first, last = _span(con, period)
    if first is None:
        return
    span = ((last - first).days // step_days + 1) * step_days
    target = last.toordinal() - days_wanted + 1
    shift = span
    while first.toordinal() - shift + span > target:
        con.execute(
            f"INSERT INTO series SELECT * REPLACE (CAST(date - INTERVAL {shift} DAY AS DATE) AS date) "
            "FROM series WHERE period = ? AND date >= ? AND date <= ?",
            [period, first, last],
        )
        shift += span
    con.execute("DELETE FROM series WHERE period = ? AND date < ?", [period, duckdb_date(target)])


def duckdb_date(ordinal: int) -> Any:
    from datetime import date

    return date.fromordinal(ordinal)


def table_sizes(path: Path) -> dict[str, int]:
    """Rows per table of a snapshot file."""
    con = duckdb.connect(str(path), read_only=True)
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    sizes = {n: int(con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0]) for n in names}
    con.close()
    return sizes


def scale_snapshot(src: Path, dst: Path, target_requests: int) -> dict[str, Any]:
    """Copy ``src`` to ``dst`` with the weekly history of ``target_requests`` requests."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    con = duckdb.connect(str(dst))
    total, first, last = con.execute(
        "SELECT sum(requests_total), min(first_created), max(last_created) FROM agencies"
    ).fetchall()[0]
    per_day = total / max((last - first).days, 1)
    history_days = int(target_requests / per_day)
    _extend(con, "week", history_days, 7)
    _extend(con, "day", DAY_SERIES_DAYS, 1)
    factor = target_requests / total
    con.execute(
        f"UPDATE agencies SET requests_total = CAST(requests_total * {factor} AS BIGINT), "
        f"first_created = first_created - INTERVAL {history_days} DAY"
    )
    con.execute(f"UPDATE status SET requests_total = {target_requests}")
    con.execute("CHECKPOINT")
    con.close()
    return {"requests_per_day": per_day, "history_days": history_days, "source_requests": int(total)}
