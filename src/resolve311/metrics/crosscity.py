"""Two small snapshot tables for the cross-city view and the area labels (warehouse side).

``type_days``  per complaint type × created day (the last :data:`DAYS` days): requests created,
               how many closed within each time-to-close bucket, closed without a usable time,
               and still open. Categories are unions of types, so every column is a count
               (additive); medians are read from the bucket histogram (web/crosscity.py).
``areas``      per value of the city's main area dimension: requests and the mean position of
               the located ones (where the "where" heat map writes the area's name).

Both read the staged ``metric_window_input`` (or its query) (staging.py: every row created or closed in the
windows' reach, which covers the last :data:`DAYS` created days) — not the ``metric_input`` view
of the whole history, whose computed day cannot skip old row groups; formulas: docs/metrics.md.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import duckdb
import pandas as pd

from resolve311.metrics.windows import dnum

#: Days of history kept per type (as the daily series).
DAYS: Final[int] = 400
#: Time-to-close buckets: (column, lower bound in days (inclusive), upper bound (exclusive)).
BUCKETS: Final[tuple[tuple[str, int, int | None], ...]] = (
    *((f"closed_d{k}", k - 1, k) for k in range(1, 8)),
    ("closed_d14", 7, 14),
    ("closed_d30", 14, 30),
    ("closed_d60", 30, 60),
    ("closed_d90", 60, 90),
    ("closed_later", 90, None),
)


def _bucket_sql(column: str, low: int, high: int | None) -> str:
    upper = "" if high is None else f" AND ttc_h < {high * 24}"
    return f"count(*) FILTER (WHERE is_closed AND ttc_h >= {low * 24}{upper}) AS {column}"


def type_days(con: duckdb.DuckDBPyConnection, as_of_dnum: int, rows: str) -> pd.DataFrame:
    """The ``type_days`` table from ``rows`` (created days ending at ``as_of_dnum``)."""
    buckets = ",\n       ".join(_bucket_sql(*b) for b in BUCKETS)
    sql = f"""
SELECT complaint_type, CAST(DATE '1970-01-01' + created_dnum AS DATE) AS date,
       count(*) AS created,
       {buckets},
       count(*) FILTER (WHERE is_closed AND ttc_h IS NULL) AS closed_untimed,
       count(*) FILTER (WHERE NOT is_closed) AS open_now
FROM {rows}
WHERE created_dnum BETWEEN ? AND ?
GROUP BY ALL ORDER BY complaint_type, date"""
    return con.execute(sql, [as_of_dnum - DAYS + 1, as_of_dnum]).df()


def areas(con: duckdb.DuckDBPyConnection, as_of_dnum: int, rows: str) -> pd.DataFrame:
    """The ``areas`` table: requests and mean located position per area (same days)."""
    sql = f"""
SELECT borough AS area, count(*) AS requests, count(lat) AS located, avg(lat) AS lat, avg(lon) AS lon
FROM {rows} WHERE created_dnum BETWEEN ? AND ?
GROUP BY ALL ORDER BY requests DESC"""
    return con.execute(sql, [as_of_dnum - DAYS + 1, as_of_dnum]).df()


def tables(con: duckdb.DuckDBPyConnection, as_of_date: date, rows: str) -> dict[str, pd.DataFrame]:
    """Both tables for a snapshot whose last complete day is ``as_of_date``, from ``rows`` (a relation
    or a parenthesised query holding the staged window rows)."""
    last = dnum(as_of_date)
    return {"type_days": type_days(con, last, rows), "areas": areas(con, last, rows)}
