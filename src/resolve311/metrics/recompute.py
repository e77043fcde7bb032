"""The second phase of a refresh (:mod:`refresh`): the metrics recomputed from the kept rows.

The day tables (the affected days' counts, or the changed requests' delta), the windowed metrics
(``compute.py``, on DuckDB or Spark), the stored rows' reads and the calibration, and the
refresh's report with its results. Imported by the refresh in a thread while its first phase
brings the kept rows up to date: this is where pandas and Ibis come in.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from resolve311.metrics import (
    agencies,
    day_chain,
    engines,
    refresh_state,
    snapshot,
    staging,
    stored_reads,
    unit_counts,
    window_rows,
)
from resolve311.metrics.compute import Inputs, compute_all
from resolve311.metrics.refresh import Kept, RefreshReport, stage_inputs
from resolve311.metrics.staging import fetch_first
from resolve311.metrics.window_tables import Context
from resolve311.metrics.windows import as_of_date_for, local_ms
from resolve311.settings import Settings


def recompute(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    engine_name: str,
    kept: Kept,
    step: Callable[[str], None],
) -> RefreshReport:
    """The metrics of the warehouse on ``con`` from the rows ``kept`` brought up to date."""
    source, days, as_of = settings.source, kept.days, kept.as_of
    status = snapshot.read_status_tables(con, source, as_of)
    meta = snapshot.base_meta(settings) | {
        "generated_at": snapshot.generated_now(),
        "data_generation": snapshot.data_generation(con, source),
        "metrics_status": "published",
        "metrics_note": None,
    }
    if as_of is None:
        refresh_state.write_state(con, source, None)
        results = snapshot.Results(status, meta | {"as_of": None, "as_of_date": None})
        return RefreshReport(
            "empty", engine_name, None, None, 0, snapshot_path=settings.snapshot_path, results=results
        )
    ctx = _context(con, settings, as_of)
    since, changes = kept.since, kept.changes
    delta = day_chain.usable_delta(con, source, engine_name, days, changes)
    with (
        _day_connection(con, settings, engine_name) as day_con,
        ThreadPoolExecutor(max_workers=1) as pool,
        ThreadPoolExecutor(max_workers=1) as side_pool,
    ):
        rows = window_rows.INPUT if day_con is con else f"({window_rows.input_sql(source, since)})"
        staging.create_day_input(day_con, [] if delta else _sorted(days), (rows, since))
        with _inputs(con, settings, engine_name, day_con) as inputs:
            if engine_name == "duckdb":
                inputs = dataclasses.replace(inputs, kept=_kept(con, source, ctx, since, changes))
            step("daily counts")
            # the day tables do not feed the windowed queries: the engine runs both at once
            day_input = day_chain.DayInput(inputs.day_requests, (rows, since))
            counted = pool.submit(day_chain.update, day_con, day_input, source, days, delta)
            if day_con is con:
                counted.result()  # one connection: not shared between threads
            step("windowed metrics")
            # the stored rows' reads (after the day tables: the series and the panel read them)
            # start once the windowed queries are done and overlap their numpy and the windows'
            # pandas (the engine holds no GIL)
            side: list[Future[stored_reads.StoredReads]] = []
            tables = compute_all(
                inputs,
                ctx,
                lambda: side.append(
                    side_pool.submit(
                        stored_reads.read,
                        con.cursor(),
                        counted,
                        (source, settings),
                        ctx,
                        (since, inputs.kept is None),
                    )
                ),
            )
            counted.result()
        stored = side[0].result()
        step("calibration")
        tables |= stored_reads.calibrated(stored.calibration, tables)
    refresh_state.write_state(con, source, as_of)
    meta |= {
        "as_of": as_of.isoformat(),
        "as_of_date": ctx.as_of_date.isoformat(),
        "history_start": ctx.history_start.isoformat(),
        "engine": engine_name,
        "sla_loaded": str(inputs.sla is not None).lower(),
        **stored.meta,
    }
    tables |= stored.tables
    return RefreshReport(
        "full" if days is None else "incremental",
        engine_name,
        as_of,
        ctx.as_of_date,
        len(days) if days is not None else _count(con, source),
        {name: len(frame) for name, frame in tables.items()},
        settings.snapshot_path,
        results=snapshot.Results({**status, **tables}, meta),
    )


@contextmanager
def _day_connection(
    con: duckdb.DuckDBPyConnection, settings: Settings, engine_name: str
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Where the affected days' input and tables are made: on DuckDB a cursor of its own (another
    thread recomputes them while the windowed queries run); Spark exports them from ``con``."""
    if engine_name != "duckdb":
        yield con
        return
    with con.cursor() as cursor:
        stage_inputs(cursor, settings)
        yield cursor


def _kept(
    con: duckdb.DuckDBPyConnection, source: str, ctx: Context, since: int, changes: window_rows.Changes | None
) -> unit_counts.Kept:
    """Where the created, cohort and heat-map counts are kept, and what can shift them (DuckDB)."""
    window = window_rows.read_state(con, source)
    return unit_counts.Kept(
        con,
        source,
        since,
        window.batch_seq if window else None,
        changes,
        unit_counts.read_state(con, source),
        unit_counts.definition(ctx.grid_deg),
    )


def _sorted(days: set[int] | None) -> list[int] | None:
    return None if days is None else sorted(days)


@contextmanager
def _inputs(
    con: duckdb.DuckDBPyConnection, settings: Settings, engine_name: str, day_con: duckdb.DuckDBPyConnection
) -> Iterator[Inputs]:
    if engine_name == "duckdb":
        yield engines.duckdb_inputs(con, day_con)
        return
    with (
        tempfile.TemporaryDirectory(prefix="resolve311-spark-") as tmp,
        engines.spark_inputs(
            con, settings.spark_master, Path(tmp), settings.spark_driver_memory, settings.lake_url
        ) as inputs,
    ):
        yield inputs


def _context(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: datetime) -> Context:
    first = agencies.history_start(con, settings.source)
    start = first.date() if first else as_of.date()
    return Context(
        as_of_date=as_of_date_for(as_of),
        as_of_ms=local_ms(as_of, settings.city_timezone()),
        history_start=start,
        tz=settings.city_timezone(),
        grid_deg=snapshot.GRID_DEG,
        anomaly_threshold=settings.anomaly_threshold,
        min_group_size=settings.min_group_size,
    )


def _count(con: duckdb.DuckDBPyConnection, source: str) -> int:
    row = fetch_first(con, "SELECT count(DISTINCT dnum) FROM metric_day_counts WHERE source = ?", [source])
    return int(row[0]) if row else 0
