"""The steps of the scale benchmark, each run in its own process (see bench.isolate).

``generate`` uses the simulator's own generator and clock: one year of history
up to ``today`` at the scale that gives about ``rows`` requests over ``years``,
repeated back in time (copy ``r`` moved ``r × 364`` days earlier, whole weeks so
weekdays match, keys offset by ``r × KEY_STRIDE``; the copies' requests still open
at the base year's end are closed 1–60 days after creation but for
``LEFT_OPEN_PERCENT``, as old requests are in the real history), written as one
41-column portal export per dataset (display names, US dates, no ``:updated_at``:
what the portal's bulk download gives). Generating 15 years day by day would
take the simulator over an hour at 40M rows; one year and the copies take
minutes, and the metrics only need the history's shape. Then the clock moves
one day and the rows that changed (new requests, late closes and updates:
all in the base year, the most recent) are written as the API would return
them (JSON, with ``:updated_at``).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

#: Requests the simulator generates in the year up to 2024-12-31 at scale 1.0 (measured: 34,256 at
#: scale 0.01; the simulated volume grows over the years, like the real one).
ROWS_PER_SCALE_YEAR = 3_425_600


def _scale_for(rows: int, years: int) -> float:
    return rows / (ROWS_PER_SCALE_YEAR * years)


def _tiled_rows(kinds: dict[str, str], years: int) -> str:
    """``rows`` and its ``years - 1`` copies back in time (column ``r``: the copy, 0 = the base year)."""
    from bench.history_tiles import LEFT_OPEN_PERCENT, SHIFT_DAYS

    close_it = f"r > 0 AND closed_date IS NULL AND hash(unique_key) % 100 >= {LEFT_OPEN_PERCENT}"
    closes = "created_date + to_days(CAST(1 + hash(unique_key) % 60 AS INTEGER))"
    shift = f"to_days((r * {SHIFT_DAYS})::INTEGER)"
    replaced = [f"CASE WHEN {close_it} THEN 'Closed' ELSE status END AS status"]
    for name, kind in kinds.items():
        if kind.startswith("TIMESTAMP"):
            quoted = f'"{name}"'
            value = (
                f"CASE WHEN {close_it} THEN {closes} ELSE {quoted} END" if name == "closed_date" else quoted
            )
            replaced.append(f"{value} - {shift} AS {quoted}")
    return f"SELECT * REPLACE ({', '.join(replaced)}), r FROM rows, range({years}) t(r)"


def generate(work: str, rows: int, years: int, today: str) -> dict[str, Any]:
    """Write the history exports and the next day's changes under ``work``; their paths and counts."""
    from bench.bulk_import import _column_sql, export_header
    from bench.history_tiles import SHIFT_DAYS
    from bench.warehouse_build import _text_select
    from resolve311.simulator.config import SimConfig
    from resolve311.simulator.engine import Simulation
    from resolve311.simulator.store import DATASETS

    out = Path(work)
    end = date.fromisoformat(today)
    started = time.perf_counter()
    sim = Simulation(
        SimConfig(
            today=end, history_days=SHIFT_DAYS, scale=_scale_for(rows, years),
            data_dir=out / "sim", memory_limit="3GB",
        )
    )  # fmt: skip
    sim.store.con.execute("SET enable_progress_bar = false")
    try:
        sim.start()
        store = sim.store.cursor()
        kinds = {name: kind for name, kind, *_ in store.execute("DESCRIBE rows").fetchall()}
        select = ", ".join(_column_sql(h, kinds, 0) for h in export_header())
        tiled = _tiled_rows(kinds, years)
        files, counts = [], {}
        for dataset in ("76ig-c548", "erm2-nwe9"):
            path = out / f"{dataset}.csv"
            store.execute(
                f"COPY (SELECT {select} FROM ({tiled}) WHERE {DATASETS[dataset]} "
                f"ORDER BY created_date) TO '{path}' (HEADER, DELIMITER ',')"
            )
            counts[dataset] = int(
                store.execute(f"SELECT count(*) FROM ({tiled}) WHERE {DATASETS[dataset]}").fetchall()[0][0]
            )
            if counts[dataset]:  # a short history has no rows before 2020
                files.append(str(path))
        newest = store.execute('SELECT max(":updated_at") FROM rows').fetchall()[0][0]
        sim.advance(1)
        day = out / "next-day.json"
        changed = f"WHERE \":updated_at\" > TIMESTAMP '{newest}'"
        store.execute(f"COPY ({_text_select(store, changed)}) TO '{day}' (FORMAT JSON, ARRAY true)")
        day_rows = int(store.execute(f"SELECT count(*) FROM rows {changed}").fetchall()[0][0])
        new_rows = int(
            store.execute(
                f"SELECT count(*) FROM rows {changed} AND created_date >= TIMESTAMP '{end}' + INTERVAL 1 DAY"
            ).fetchall()[0][0]
        )
    finally:
        sim.close()
    return {
        "files": files, "counts": counts, "day_file": str(day), "day_rows": day_rows,
        "day_new_rows": new_rows, "seconds": time.perf_counter() - started,
        "bytes": sum(Path(f).stat().st_size for f in files),
    }  # fmt: skip


def import_files(home: str, files: list[str]) -> dict[str, Any]:
    """``resolve311 import FILE…`` (metrics off: the refresh is measured on its own)."""
    from resolve311.pipeline import run_import
    from resolve311.settings import load_settings

    started = time.perf_counter()
    report = run_import(load_settings(home=home), [Path(f) for f in files], refresh=False)
    return {
        "status": report.status,
        "error": report.error,
        "rows_in": sum(int(e["rows"]) for e in report.files),
        "rows_stored": sum(int(e["loaded"]) for e in report.files),
        "seconds": time.perf_counter() - started,
    }


def duckdb_bare(database: str, files: list[str]) -> dict[str, Any]:
    """DuckDB's own ``CREATE TABLE AS SELECT * FROM read_csv(…)`` of each file into one database file."""
    import duckdb

    Path(database).unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(database)
    con.execute("SET enable_progress_bar = false")
    rows = 0
    for i, file in enumerate(files):
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?)", [file])
        rows += int(con.execute(f"SELECT count(*) FROM t{i}").fetchall()[0][0])
    con.close()
    return {"rows_in": rows, "rows_stored": rows, "seconds": time.perf_counter() - started}


def disk_usage(home: str) -> dict[str, int]:
    """Bytes under each top-level entry of ``home``."""
    sizes: dict[str, int] = {}
    for entry in Path(home).iterdir():
        paths = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes[entry.name] = sum(p.stat().st_size for p in paths)
    return sizes
