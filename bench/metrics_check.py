"""Do two metric computations agree? (snapshot vs snapshot, pandas vs snapshot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

KEYS = ("agency", "complaint_type", "borough", '"window"', "baseline", "metric")
TOLERANCE = 1e-6


def _differs(a: str, b: str) -> str:
    return f"(({a} IS NULL) <> ({b} IS NULL) OR abs({a} - {b}) > {TOLERANCE} * (1 + abs({b})))"


def snapshots_agree(first: Path, second: Path) -> dict[str, Any]:
    """Scorecard rows compared, rows that differ (recent or historical), largest absolute difference,
    and where the differences are (window/baseline/metric, with which side is NULL)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{first}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{second}' AS b (READ_ONLY)")
    on = " AND ".join(f"a.{k} = b.{k}" for k in KEYS)
    differs = (
        f"a.metric IS NULL OR b.metric IS NULL OR {_differs('a.recent', 'b.recent')} "
        f"OR {_differs('a.historical', 'b.historical')}"
    )
    joined = f"a.scorecard a FULL OUTER JOIN b.scorecard b ON {on}"
    row = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE {differs}),
                   max(greatest(abs(a.recent - b.recent), abs(a.historical - b.historical)))
            FROM {joined}"""
    ).fetchall()[0]
    where = con.execute(
        f"""SELECT coalesce(a."window", b."window") || '/' || coalesce(a.baseline, b.baseline) || ' '
                   || coalesce(a.metric, b.metric)
                   || CASE WHEN a.metric IS NULL THEN ' (only in second)' WHEN b.metric IS NULL THEN ' (only in first)'
                           WHEN (a.historical IS NULL) <> (b.historical IS NULL)
                                OR (a.recent IS NULL) <> (b.recent IS NULL)
                           THEN ' (NULL in ' || CASE WHEN a.historical IS NULL OR a.recent IS NULL
                                                     THEN 'first' ELSE 'second' END || ')'
                           ELSE '' END AS what, count(*) AS n
            FROM {joined} WHERE {differs} GROUP BY 1 ORDER BY 2 DESC LIMIT 5"""
    ).fetchall()
    con.close()
    return {
        "compared": int(row[0]), "differ": int(row[1]), "max_abs_diff": row[2],
        "where": "; ".join(f"{what}: {n}" for what, n in where),
    }  # fmt: skip


def pandas_agrees(snapshot: Path, out_dir: Path) -> dict[str, Any]:
    """Compare the pandas headline numbers with the snapshot's series and scorecard."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{snapshot}' AS s (READ_ONLY)")
    created = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE p.created IS DISTINCT FROM s.created)
            FROM s.series s LEFT JOIN read_parquet('{out_dir / "pandas-created.parquet"}') p
              ON p.agency = s.agency AND CAST(p.date AS DATE) = s.date
            WHERE s.period = 'day' AND s.complaint_type = '*' AND s.borough = '*' AND s.agency <> '*'
              AND s.created > 0"""
    ).fetchall()[0]
    out = {"created_days_compared": int(created[0]), "created_days_differ": int(created[1])}
    for name, type_filter, join in (
        ("agency", "s.complaint_type = '*'", "p.agency = s.agency"),
        (
            "agency-type",
            "s.complaint_type <> '*'",
            "p.agency = s.agency AND p.complaint_type = s.complaint_type",
        ),
    ):
        row = con.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE {_differs("s.recent", "p.value")}),
                       max(abs(s.recent - p.value))
                FROM (SELECT * FROM s.scorecard WHERE "window" = '28d' AND baseline = '8w'
                      AND metric IN ('ttc_median_h', 'ttc_p90_h') AND borough = '*' AND agency <> '*'
                      AND recent IS NOT NULL) s
                LEFT JOIN (UNPIVOT read_parquet('{out_dir / f"pandas-ttc-{name}.parquet"}')
                           ON ttc_median_h, ttc_p90_h INTO NAME metric VALUE value) p
                  ON {join} AND p.metric = s.metric
                WHERE {type_filter}"""
        ).fetchall()[0]
        out[f"ttc_{name}_compared"], out[f"ttc_{name}_differ"], out[f"ttc_{name}_max_diff"] = row
    con.close()
    return out
