"""Build a warehouse of simulated requests without HTTP (generator -> normalise -> load_batch).

The simulator's generator writes Parquet; its store computes what the API would
show on ``today``; the rows go through resolve311's own normaliser and loader in
chunks, exactly as API pages would. One more simulated day is kept aside as the
batch for the incremental-refresh measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK_ROWS = 250_000
FIXED = (":created_at", ":updated_at")


@dataclass(frozen=True)
class BuiltWarehouse:
    home: Path
    rows: int
    next_day: Path  # Parquet: the changes of the following day, as text columns
    next_day_rows: int


def _text_select(con: duckdb.DuckDBPyConnection, where: str = "") -> str:
    """SELECT of ``rows`` with timestamps as the API's ISO text (floating, or UTC with Z)."""
    columns = []
    for name, kind, *_ in con.execute("DESCRIBE rows").fetchall():
        ref = f'"{name}"'
        if kind.startswith("TIMESTAMP"):
            pattern = "%Y-%m-%dT%H:%M:%S.%gZ" if name in FIXED else "%Y-%m-%dT%H:%M:%S.%g"
            columns.append(f"strftime({ref}, '{pattern}') AS {ref}")
        elif kind == "DOUBLE":
            columns.append(f"CAST({ref} AS VARCHAR) AS {ref}")
        else:
            columns.append(ref)
    return f'SELECT {", ".join(columns)} FROM rows {where} ORDER BY ":updated_at", ":id"'


def _load_chunks(reader: pa.RecordBatchReader, warehouse: duckdb.DuckDBPyConnection, first_seq: int) -> int:
    from resolve311.warehouse.loader import load_batch
    from resolve311.warehouse.normalize import normalize

    seq, rows = first_seq, 0
    for batch in reader:
        table = pa.Table.from_batches([batch])
        normalized = normalize(table, source="nyc", dataset="erm2-nwe9")
        warehouse.begin()
        load_batch(warehouse, normalized, batch_seq=seq)
        warehouse.commit()
        seq += 1
        rows += table.num_rows
    return rows


def build(home: Path, work: Path, today: date, days: int, scale: float) -> BuiltWarehouse:
    """Generate ``days`` days up to ``today`` into ``home``'s warehouse; keep ``today + 1`` aside."""
    from resolve311.simulator.config import SimConfig
    from resolve311.simulator.engine import Simulation
    from resolve311.warehouse.connection import connect

    home.mkdir(parents=True, exist_ok=True)
    sim = Simulation(
        SimConfig(today=today, history_days=days, scale=scale, data_dir=work / "sim", memory_limit="3GB")
    )
    sim.store.con.execute("SET enable_progress_bar = false")
    try:
        sim.start()
        store = sim.store.cursor()
        warehouse = connect(home / "warehouse.duckdb")
        reader = store.sql(_text_select(store)).to_arrow_reader(CHUNK_ROWS)
        rows = _load_chunks(reader, warehouse, first_seq=1)
        warehouse.close()
        newest = store.execute('SELECT max(":updated_at") FROM rows').fetchall()[0][0]
        sim.advance(1)
        changed = store.sql(
            _text_select(store, f"WHERE \":updated_at\" > TIMESTAMP '{newest}'")
        ).to_arrow_table()
        next_day = work / f"next-day-{today + timedelta(days=1)}.parquet"
        pq.write_table(changed, next_day)
    finally:
        sim.close()
    return BuiltWarehouse(home, rows, next_day, changed.num_rows)


def load_next_day(home: Path, next_day: Path) -> int:
    """Load the kept-aside day as the next landing batch; returns its rows."""
    from resolve311.warehouse.connection import connect

    warehouse = connect(home / "warehouse.duckdb")
    try:
        seq = warehouse.execute("SELECT coalesce(max(batch_seq), 0) + 1 FROM request_versions").fetchall()[0][
            0
        ]
        return _load_chunks(pq.read_table(next_day).to_reader(CHUNK_ROWS), warehouse, int(seq))
    finally:
        warehouse.close()


def cached_build(cache: Path | None, work: Path, today: date, days: int, scale: float) -> BuiltWarehouse:
    """:func:`build` once per (today, days, scale) into ``cache``; each run works on a copy in ``work``."""
    import shutil

    if cache is None:
        return build(work / "home", work, today, days, scale)
    entry = cache / f"warehouse-{today}-{days}d-x{scale}"
    done = entry / "complete.json"
    if not done.is_file():
        shutil.rmtree(entry, ignore_errors=True)
        built = build(entry / "home", entry, today, days, scale)
        shutil.rmtree(entry / "sim", ignore_errors=True)
        done.write_text(
            json.dumps(
                {"rows": built.rows, "next_day": built.next_day.name, "next_day_rows": built.next_day_rows}
            )
        )
    meta = json.loads(done.read_text())
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(entry / "home" / "warehouse.duckdb", home / "warehouse.duckdb")
    return BuiltWarehouse(home, meta["rows"], entry / meta["next_day"], meta["next_day_rows"])
