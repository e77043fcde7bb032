"""Daily created/closed counts kept in the warehouse for incremental refresh, and the series.

``metric_day_counts`` holds, per source × breakdown group × day, the requests
created and validly closed that day. A refresh recomputes only the affected days
(delete + insert in one transaction); the ``series`` table is read from it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from resolve311.metrics.definitions import GROUP_COLS
from resolve311.metrics.staging import fetch_first
from resolve311.metrics.windows import dnum
from resolve311.warehouse.transaction import registered, transaction

G = list(GROUP_COLS)
DAY_SERIES_DAYS = 400
BAND_WEEKS = 8

DERIVED_DDL = """
CREATE TABLE IF NOT EXISTS metric_day_counts (
    source VARCHAR NOT NULL, agency VARCHAR NOT NULL, complaint_type VARCHAR NOT NULL,
    borough VARCHAR NOT NULL, dnum INTEGER NOT NULL, created BIGINT NOT NULL, closed BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS metric_refresh_state (
    source VARCHAR PRIMARY KEY, last_batch_seq BIGINT, as_of TIMESTAMP, refreshed_at TIMESTAMP
);
"""

#: Batches landed after the last refresh that the loader did not record in ``load_touched_days``.
_UNRECORDED_SQL = """
SELECT count(*) FROM (
    SELECT DISTINCT batch_seq FROM request_versions WHERE source = $source AND batch_seq > $seq
    UNION SELECT DISTINCT batch_seq FROM requests WHERE source = $source AND batch_seq > $seq
) b WHERE NOT EXISTS (
    SELECT 1 FROM load_touched_days l WHERE l.source = $source AND l.batch_seq = b.batch_seq
)
"""

_TOUCHED_DAYS_SQL = """
WITH touched AS (
    SELECT DISTINCT unique_key FROM request_versions WHERE source = $source AND batch_seq > $seq
    UNION SELECT unique_key FROM requests WHERE source = $source AND batch_seq > $seq
), dates AS (
    SELECT created_date AS d, closed_date AS c FROM request_versions JOIN touched USING (unique_key)
    WHERE source = $source
    UNION ALL
    SELECT created_date, closed_date FROM requests JOIN touched USING (unique_key) WHERE source = $source
)
SELECT DISTINCT CAST(x AS DATE) FROM (SELECT d AS x FROM dates UNION ALL SELECT c FROM dates)
WHERE x IS NOT NULL
"""


@dataclass(frozen=True)
class RefreshState:
    last_batch_seq: int | None
    as_of: datetime | None


def ensure_derived_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create this module's derived warehouse tables if missing (idempotent)."""
    con.execute(DERIVED_DDL)


def read_state(con: duckdb.DuckDBPyConnection, source: str) -> RefreshState | None:
    row = fetch_first(
        con, "SELECT last_batch_seq, as_of FROM metric_refresh_state WHERE source = ?", [source]
    )
    return None if row is None else RefreshState(row[0], row[1])


def write_state(con: duckdb.DuckDBPyConnection, source: str, as_of: datetime | None) -> None:
    seq = fetch_first(
        con,
        "SELECT max(batch_seq) FROM (SELECT batch_seq FROM requests WHERE source = $1"
        " UNION ALL SELECT batch_seq FROM request_versions WHERE source = $1)",
        [source],
    )
    con.execute(
        "INSERT OR REPLACE INTO metric_refresh_state VALUES (?, ?, ?, now()::TIMESTAMP)",
        [source, seq[0] if seq else None, as_of],
    )
    con.execute("DELETE FROM load_touched_days WHERE source = ?", [source])  # consumed


def touched_days(con: duckdb.DuckDBPyConnection, source: str, since_seq: int | None) -> set[date]:
    """The days whose current rows changed after batch ``since_seq``.

    The days the loader recorded (``load_touched_days``: old and new created/closed days of each
    changed row) when it recorded every batch landed since; otherwise (rows written by an older
    version, or not by the loader) the created and closed days of every version of the requests
    that changed — a probe of every stored version, so only the fallback.
    """
    params = {"source": source, "seq": -1 if since_seq is None else since_seq}
    unrecorded = fetch_first(con, _UNRECORDED_SQL, params)
    if unrecorded is not None and unrecorded[0] == 0:
        rows = con.execute(
            "SELECT DISTINCT day FROM load_touched_days WHERE source = ? AND day IS NOT NULL", [source]
        )
    else:
        rows = con.execute(_TOUCHED_DAYS_SQL, params)
    return {r[0] for r in rows.fetchall()}


def replace_day_counts(
    con: duckdb.DuckDBPyConnection,
    source: str,
    created: pd.DataFrame,
    closed: pd.DataFrame,
    days: Collection[int] | None,
) -> int:
    """Replace the rows of ``days`` (all rows when None) by the new counts; returns rows written."""
    merged = created.merge(closed, on=[*G, "dnum"], how="outer").fillna({"created": 0, "closed": 0})
    merged = merged.astype({"created": "int64", "closed": "int64", "dnum": "int32"})
    merged.insert(0, "source", source)
    with transaction(con):
        if days is None:
            con.execute("DELETE FROM metric_day_counts WHERE source = ?", [source])
        else:
            con.execute(
                "DELETE FROM metric_day_counts WHERE source = ? AND list_contains(?, dnum)",
                [source, sorted(days)],
            )
        with registered(con, new_day_counts=merged):
            con.execute("INSERT INTO metric_day_counts BY NAME SELECT * FROM new_day_counts")
    return len(merged)


def dates_of(dnums: np.ndarray) -> np.ndarray:
    """Day numbers as a numpy date array (one conversion; a Python ``date`` per row made the
    series' frames object columns, slow to build and for DuckDB to read: 244k rows at 40M)."""
    return np.asarray(dnums, dtype=np.int64).astype("datetime64[D]")


def week_series(con: duckdb.DuckDBPyConnection, source: str, first: date, last: date) -> pd.DataFrame:
    """Created/closed per week (weeks start Monday) over the whole stored history."""
    frame = con.execute(
        """SELECT agency, complaint_type, borough, dnum - ((dnum + 3) % 7) AS wk,
                  sum(created)::BIGINT AS created, sum(closed)::BIGINT AS closed
           FROM metric_day_counts WHERE source = ? AND dnum BETWEEN ? AND ?
           GROUP BY ALL""",
        [source, dnum(first), dnum(last)],
    ).df()
    frame["period"] = "week"
    frame["date"] = dates_of(frame.pop("wk").to_numpy())
    for col in ("baseline_low", "baseline_mid", "baseline_high"):
        frame[col] = np.nan
    return frame


@dataclass(frozen=True)
class DayMatrix:
    """Created/closed per group (rows) × consecutive day (columns), zero-filled."""

    index: pd.Index[Any]
    days: np.ndarray
    created: np.ndarray
    closed: np.ndarray
    first: int


def day_matrix(con: duckdb.DuckDBPyConnection, source: str, first: date, last: date) -> DayMatrix | None:
    """The last 400 days plus 8 weeks of look-back (within history); None without data."""
    end = dnum(last)
    lookback = max(end - DAY_SERIES_DAYS + 1 - 7 * BAND_WEEKS, dnum(first))
    counts = con.execute(
        """SELECT agency, complaint_type, borough, dnum, created, closed FROM metric_day_counts
           WHERE source = ? AND dnum BETWEEN ? AND ?""",
        [source, lookback, end],
    ).df()
    if counts.empty:
        return None
    days = np.arange(lookback, end + 1)
    created = counts.pivot_table(index=G, columns="dnum", values="created", aggfunc="sum")
    created = created.reindex(columns=days, fill_value=0).fillna(0)
    closed = counts.pivot_table(index=G, columns="dnum", values="closed", aggfunc="sum")
    closed = closed.reindex(index=created.index, columns=days, fill_value=0).fillna(0)
    return DayMatrix(
        created.index, days, created.to_numpy(dtype=float), closed.to_numpy(dtype=float), dnum(first)
    )


def day_series(matrix: DayMatrix | None) -> pd.DataFrame:
    """Created/closed per day for the last 400 days, with the 8-week same-weekday band of created."""
    if matrix is None:
        return pd.DataFrame(columns=[*G, "period", "date", "created", "closed"])
    keep = matrix.days > matrix.days[-1] - DAY_SERIES_DAYS
    lagged = _lagged(matrix)
    band = [nan_quantile_axis0(lagged, q) for q in (0.1, 0.5, 0.9)]
    out = _long_days(matrix.index, matrix.days[keep], matrix.created[:, keep], matrix.closed[:, keep])
    for i, col in enumerate(("baseline_low", "baseline_mid", "baseline_high")):
        out[col] = band[i][:, keep].ravel()
    return out


def _lagged(matrix: DayMatrix) -> np.ndarray:
    """created on the same weekday 1..8 weeks earlier (NaN before the history start)."""
    created = matrix.created
    lagged = np.full((BAND_WEEKS, *created.shape), np.nan)
    for k in range(1, BAND_WEEKS + 1):
        shift = 7 * k
        if shift < created.shape[1]:
            lagged[k - 1, :, shift:] = created[:, :-shift]
        lagged[k - 1, :, (matrix.days - shift) < matrix.first] = np.nan
    return lagged


def anomaly_rate(
    matrix: DayMatrix | None, threshold: float, days_back: int = 365
) -> tuple[float | None, int]:
    """How often the flagger fires on history.

    Share of agency-days in the last ``days_back`` days whose created count has
    |robust score| > ``threshold`` against its own 8 previous same weekdays (at
    least 3 of them, MAD > 0). Returns (rate, agency-days evaluated).
    """
    if matrix is None:
        return None, 0
    lagged = _lagged(matrix)
    med = nan_quantile_axis0(lagged, 0.5)
    mad = nan_quantile_axis0(np.abs(lagged - med[None]), 0.5)
    count = (~np.isnan(lagged)).sum(axis=0)
    keys = matrix.index.to_frame(index=False)
    agency_rows = (
        (keys["agency"] != "*") & (keys["complaint_type"] == "*") & (keys["borough"] == "*")
    ).to_numpy()
    recent_days = matrix.days > matrix.days[-1] - days_back
    valid = (count >= 3) & (mad > 0) & agency_rows[:, None] & recent_days[None, :]
    evaluated = int(valid.sum())
    if evaluated == 0:
        return None, 0
    score = (matrix.created[valid] - med[valid]) / (1.4826 * mad[valid])
    return float((np.abs(score) > threshold).mean()), evaluated


def nan_quantile_axis0(values: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolation quantile over axis 0 ignoring NaN (NaN where all are NaN); vectorised."""
    ordered = np.sort(values, axis=0)  # NaN sort last
    count = (~np.isnan(values)).sum(axis=0)
    pos = q * np.maximum(count - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
    lo_v = np.take_along_axis(ordered, lo[None], axis=0)[0]
    hi_v = np.take_along_axis(ordered, hi[None], axis=0)[0]
    out = lo_v + (hi_v - lo_v) * (pos - lo)
    return np.where(count > 0, out, np.nan)


def _long_days(
    index: pd.Index[Any], days: np.ndarray, created: np.ndarray, closed: np.ndarray
) -> pd.DataFrame:
    n_groups, n_days = created.shape
    keys = index.to_frame(index=False)
    out = keys.loc[np.repeat(np.arange(n_groups), n_days)].reset_index(drop=True)
    out["period"] = "day"
    out["date"] = np.tile(dates_of(days), n_groups)
    out["created"] = created.ravel().astype("int64")
    out["closed"] = closed.ravel().astype("int64")
    return out
