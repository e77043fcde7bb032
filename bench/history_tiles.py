"""A long-history warehouse at engine speed: one simulated year, repeated back in time.

Generating and loading 15 years through the product's normaliser takes an hour;
the metric refresh only needs a warehouse whose *shape* is a long history. So a
base year built by :mod:`bench.warehouse_build` (the real generator, normaliser
and loader) is copied back in time in SQL: copy ``k`` is the base year moved
``k × 364`` days earlier (whole weeks, so weekdays match) with its keys suffixed.
The copies keep every column the metrics read (the free-text columns are left
empty: the refresh never reads them). The most recent year stays the base year
itself, so the kept-aside next day (``load_next_day``) changes it as a real day would.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

SHIFT_DAYS = 364
#: Columns shifted back in time in each copy.
TIME_COLUMNS = (
    "created_date", "closed_date", "due_date", "resolution_action_updated_date", "created_utc",
    "closed_utc", "source_created_at", "source_updated_at", "loaded_at",
)  # fmt: skip
#: Columns the metric refresh reads (the others are left NULL in the copies).
KEPT = (
    "unique_key", "agency", "agency_name", "complaint_type", "status", "borough", "latitude",
    "longitude", "source", "dataset", "hours_to_close", "is_closed", "dirty_flags", "source_id",
    "row_hash", "batch_seq",
)  # fmt: skip


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _copy_select(columns: list[tuple[str, str]], table: str, k: int, since: str | None) -> str:
    parts = []
    for name, kind in columns:
        if name == "unique_key":
            parts.append(f"unique_key || '-y{k}' AS unique_key")
        elif name in TIME_COLUMNS:
            parts.append(f"{name} - INTERVAL {k * SHIFT_DAYS} DAY AS {name}")
        elif name in KEPT:
            parts.append(name)
        else:
            parts.append(f"CAST(NULL AS {kind}) AS {name}")
    where = f"WHERE created_date - INTERVAL {k * SHIFT_DAYS} DAY >= TIMESTAMP '{since}'" if since else ""
    return f"SELECT {', '.join(parts)} FROM base.{table} {where}"


#: Of the copies' requests still open at the base's end, this share stays open for ever.
LEFT_OPEN_PERCENT = 1


def close_copies(con: duckdb.DuckDBPyConnection) -> None:
    """Close the copies' open requests 1–60 days after creation, but for ``LEFT_OPEN_PERCENT``.

    A copy is a year moved back in time: the requests open at the base year's end would otherwise
    stay open for years, and every copy would add a year's worth of never-closed requests to every
    backlog — unlike the real history, where a request of years ago is almost always closed.
    """
    close = "created_date + to_days(CAST(1 + hash(unique_key) % 60 AS INTEGER))"
    close_utc = "created_utc + to_days(CAST(1 + hash(unique_key) % 60 AS INTEGER))"
    for table in ("requests", "request_history"):  # request_versions: a view over both
        con.execute(
            f"""UPDATE {table} SET closed_date = {close}, closed_utc = {close_utc}, is_closed = true,
                   status = 'Closed', hours_to_close = 24.0 * (1 + hash(unique_key) % 60)
               WHERE unique_key LIKE '%-y%' AND closed_date IS NULL
                 AND hash(unique_key) % 100 >= {LEFT_OPEN_PERCENT}"""
        )


def tile(base: Path, out: Path, years: float) -> int:
    """Write ``out``: ``base``'s warehouse plus copies reaching ``years`` × 364 days back; returns requests."""
    import shutil

    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(base, out)
    con = duckdb.connect(str(out))
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET memory_limit = '4GB'")
        con.execute(f"ATTACH '{base}' AS base (READ_ONLY)")
        newest = con.execute("SELECT max(created_date) FROM base.requests").fetchall()[0][0]
        first = con.execute(
            f"SELECT TIMESTAMP '{newest}' - INTERVAL {round(years * SHIFT_DAYS)} DAY"
        ).fetchall()[0][0]
        # oldest copies first, so the storage order stays roughly the order of creation
        for k in range(math.ceil(years) - 1, 0, -1):
            for table in ("requests", "request_history"):
                sql = _copy_select(_columns(con, table), table, k, str(first))
                con.execute(f"INSERT INTO {table} {sql}")
        con.execute("DETACH base")
        close_copies(con)
        con.execute("CHECKPOINT")
        return int(con.execute("SELECT count(*) FROM requests").fetchall()[0][0])
    finally:
        con.close()
