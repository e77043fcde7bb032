"""The metric computations compared (each run in its own process).

resolve311's full refresh on DuckDB or Spark (the same Ibis definitions), its
incremental refresh, and a pandas implementation of the headline metrics.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

WINDOW_DAYS = 28


def refresh(home: str, engine: str, full: bool, keep_as: str) -> dict[str, Any]:
    """``refresh_metrics``; the published snapshot is copied to ``home/keep_as``."""
    from resolve311.publish import refresh_and_publish
    from resolve311.settings import load_settings

    settings = load_settings(home=home, engine=engine, spark_master="local[2]")
    report = refresh_and_publish(settings, full=full, engine=engine)
    shutil.copyfile(settings.snapshot_path, Path(home) / keep_as)
    if engine == "spark":
        from resolve311.metrics.engines import spark_session

        spark_session("local[2]").stop()
    return {
        "mode": report.mode,
        "days_recomputed": report.days_recomputed,
        "snapshot_rows": sum(report.rows.values()),
        "as_of_date": str(report.as_of_date),
    }


def _group(series: Any) -> Any:
    stripped = series.fillna("").str.strip()
    return stripped.where(stripped != "", "Unspecified")


def pandas_headline(parquet: str, as_of_date: str, out_dir: str) -> dict[str, Any]:
    """Created per day per agency; median and p90 hours to close per agency and agency × type (28 days)."""
    import pandas as pd

    columns = ["agency", "complaint_type", "created_date", "closed_date", "closed_utc", "hours_to_close"]
    df = pd.read_parquet(parquet, columns=columns)
    df["agency"] = _group(df["agency"])
    df["complaint_type"] = _group(df["complaint_type"])
    created_day = df.groupby(["agency", df["created_date"].dt.normalize().rename("date")]).size()
    hours = df["hours_to_close"]  # the warehouse's normalised duration, as the Ibis definitions use
    valid = df["closed_utc"].notna() & (hours >= 0) & (df["closed_date"].dt.year <= 2100)
    last = pd.Timestamp(as_of_date)
    in_window = (df["closed_date"].dt.normalize() > last - pd.Timedelta(days=WINDOW_DAYS)) & (
        df["closed_date"].dt.normalize() <= last
    )
    closed = df.loc[valid & in_window, ["agency", "complaint_type"]].assign(ttc_h=hours[valid & in_window])
    by_agency = closed.groupby("agency")["ttc_h"].quantile([0.5, 0.9]).unstack()
    by_type = closed.groupby(["agency", "complaint_type"])["ttc_h"].quantile([0.5, 0.9]).unstack()
    out = Path(out_dir)
    created_day.rename("created").reset_index().to_parquet(out / "pandas-created.parquet")
    for name, frame in (("agency", by_agency), ("agency-type", by_type)):
        frame.columns = ["ttc_median_h", "ttc_p90_h"]
        frame.reset_index().to_parquet(out / f"pandas-ttc-{name}.parquet")
    return {
        "groups": len(by_agency) + len(by_type),
        "days": int(created_day.index.get_level_values(1).nunique()),
    }


HEADLINE_SQL = """
WITH r AS (
    SELECT coalesce(nullif(trim(agency), ''), 'Unspecified') AS agency,
           coalesce(nullif(trim(complaint_type), ''), 'Unspecified') AS complaint_type,
           created_date, closed_date, closed_utc, hours_to_close
    FROM requests
), closed AS (
    SELECT * FROM r
    WHERE closed_utc IS NOT NULL AND hours_to_close >= 0 AND year(closed_date) <= 2100
      AND CAST(closed_date AS DATE) > $last - INTERVAL 28 DAY AND CAST(closed_date AS DATE) <= $last
)
SELECT 'created' AS what, agency, NULL AS complaint_type, CAST(created_date AS DATE) AS d,
       count(*) AS n, NULL AS median_h, NULL AS p90_h FROM r GROUP BY ALL
UNION ALL
SELECT 'ttc', agency, NULL, NULL, count(*), quantile_cont(hours_to_close, 0.5), quantile_cont(hours_to_close, 0.9)
FROM closed GROUP BY ALL
UNION ALL
SELECT 'ttc', agency, complaint_type, NULL, count(*), quantile_cont(hours_to_close, 0.5),
       quantile_cont(hours_to_close, 0.9)
FROM closed GROUP BY ALL
"""


def duckdb_headline(warehouse: str, as_of_date: str) -> dict[str, Any]:
    """The pandas headline subset as one DuckDB SQL query over the warehouse (read-only)."""
    from datetime import date

    import duckdb

    con = duckdb.connect(warehouse, read_only=True)
    rows = con.execute(HEADLINE_SQL, {"last": date.fromisoformat(as_of_date)}).fetchall()
    con.close()
    return {"rows": len(rows)}
