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


#: The count columns of ``type_days``, in its order.
COUNTS: Final[tuple[str, ...]] = ("created", *(b[0] for b in BUCKETS), "closed_untimed", "open_now")


def _counted(where: str | None, signed: bool) -> str:
    """A count of the rows (``where`` holds), or of signed rows (``w``: :mod:`unit_counts`) their sum."""
    if not signed:
        return "count(*)" if where is None else f"count(*) FILTER (WHERE {where})"
    return "sum(w)" if where is None else f"coalesce(sum(w) FILTER (WHERE {where}), 0)"


def counts_sql(rows: str, *, signed: bool = False, where: str = "TRUE") -> str:
    """Per complaint type × created day number (``created_dnum``): the ``type_days`` counts of
    ``rows`` (those ``where`` holds); with ``signed`` sums of their signs."""
    flags: list[str | None] = [None]
    for _, low, high in BUCKETS:
        flags.append(
            f"is_closed AND ttc_h >= {low * 24}" + ("" if high is None else f" AND ttc_h < {high * 24}")
        )
    flags += ["is_closed AND ttc_h IS NULL", "NOT is_closed"]
    counts = ",\n       ".join(f"{_counted(f, signed)} AS {c}" for f, c in zip(flags, COUNTS, strict=True))
    return f"""
SELECT complaint_type, created_dnum,
       {counts}
FROM {rows} WHERE {where}
GROUP BY ALL"""


def type_days_of(con: duckdb.DuckDBPyConnection, as_of_dnum: int, counts: str) -> pd.DataFrame:
    """The ``type_days`` table (created days ending at ``as_of_dnum``) from ``counts``
    (:func:`counts_sql`'s rows: a relation or a parenthesised query)."""
    sql = f"""
SELECT complaint_type, CAST(DATE '1970-01-01' + created_dnum AS DATE) AS date, {", ".join(COUNTS)}
FROM {counts} WHERE created_dnum BETWEEN ? AND ? ORDER BY complaint_type, date"""
    return con.execute(sql, [as_of_dnum - DAYS + 1, as_of_dnum]).df()


def type_days(con: duckdb.DuckDBPyConnection, as_of_dnum: int, rows: str) -> pd.DataFrame:
    """The ``type_days`` table from ``rows`` (created days ending at ``as_of_dnum``)."""
    where = f"created_dnum BETWEEN {int(as_of_dnum) - DAYS + 1} AND {int(as_of_dnum)}"
    return type_days_of(con, as_of_dnum, f"({counts_sql(rows, where=where)})")


def areas(con: duckdb.DuckDBPyConnection, as_of_dnum: int, rows: str) -> pd.DataFrame:
    """The ``areas`` table: requests and mean located position per area (same days)."""
    sql = f"""
SELECT borough AS area, count(*) AS requests, count(lat) AS located, avg(lat) AS lat, avg(lon) AS lon
FROM {rows} WHERE created_dnum BETWEEN ? AND ?
GROUP BY ALL ORDER BY requests DESC"""
    return con.execute(sql, [as_of_dnum - DAYS + 1, as_of_dnum]).df()


def tables(
    con: duckdb.DuckDBPyConnection, as_of_date: date, rows: str, *, with_type_days: bool = True
) -> dict[str, pd.DataFrame]:
    """Both tables for a snapshot whose last complete day is ``as_of_date``, from ``rows`` (a relation
    or a parenthesised query holding the staged window rows); ``areas`` alone without
    ``with_type_days`` (on DuckDB ``type_days`` is kept across days: :mod:`unit_counts`)."""
    last = dnum(as_of_date)
    out = {"areas": areas(con, last, rows)}
    return {"type_days": type_days(con, last, rows), **out} if with_type_days else out
