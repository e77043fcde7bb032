"""The alternative to a pre-aggregated snapshot: aggregate the warehouse on every request.

The agency view's data computed on the fly with DuckDB over ``requests``: the
daily series (400 days), the when-heat map (recent 28 days vs 8 weeks before),
and median/p90 hours to close per complaint type (recent 28 days vs 8 weeks).
"""

from __future__ import annotations

import time
from typing import Any

QUERIES = {
    "series (400 days)": """
        SELECT CAST(created_date AS DATE) AS d, count(*) AS created,
               count(*) FILTER (WHERE closed_date IS NOT NULL) AS closed
        FROM requests WHERE agency = $agency AND created_date >= $as_of - INTERVAL 400 DAY
        GROUP BY 1 ORDER BY 1""",
    "heat map when (28 d vs 8 w)": """
        SELECT isodow(created_date) AS wd, hour(created_date) AS h,
               count(*) FILTER (WHERE created_date >= $as_of - INTERVAL 28 DAY) AS recent,
               count(*) FILTER (WHERE created_date < $as_of - INTERVAL 28 DAY) / 8.0 AS historical
        FROM requests WHERE agency = $agency AND created_date >= $as_of - INTERVAL 84 DAY
        GROUP BY 1, 2""",
    "time to close by type (28 d vs 8 w)": """
        SELECT complaint_type, closed_date >= $as_of - INTERVAL 28 DAY AS recent,
               quantile_cont(hours_to_close, 0.5) AS median_h, quantile_cont(hours_to_close, 0.9) AS p90_h
        FROM requests WHERE agency = $agency AND hours_to_close >= 0
          AND closed_date >= $as_of - INTERVAL 84 DAY AND closed_date < $as_of
        GROUP BY 1, 2""",
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def direct_queries(warehouse: str, agency: str, repeats: int) -> dict[str, Any]:
    """Time each query and the whole view ``repeats`` times on a read-only connection."""
    import duckdb

    con = duckdb.connect(warehouse, read_only=True)
    as_of = con.execute("SELECT max(created_date) FROM requests WHERE created_date < now()").fetchall()[0][0]
    rows = int(con.execute("SELECT count(*) FROM requests").fetchall()[0][0])
    params = {"agency": agency, "as_of": as_of}
    per_query: dict[str, list[float]] = {name: [] for name in QUERIES}
    views = []
    for _ in range(repeats):
        view_start = time.perf_counter()
        for name, sql in QUERIES.items():
            started = time.perf_counter()
            con.execute(sql, params).fetchall()
            per_query[name].append((time.perf_counter() - started) * 1000)
        views.append((time.perf_counter() - view_start) * 1000)
    con.close()
    out: dict[str, Any] = {"rows": rows, "queries": {}}
    for name, times in {**per_query, "whole agency view": views}.items():
        out["queries"][name] = {
            "p50": _percentile(times, 0.5),
            "p95": _percentile(times, 0.95),
            "n": len(times),
        }
    return out
