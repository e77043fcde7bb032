"""Refresh the metrics after a load and publish the serving snapshot.

``refresh_metrics`` (called by the pipeline and ``resolve311 metrics``):

1. stage the warehouse as narrow input views;
2. recompute the daily counts of the affected days only (the days passed in,
   plus the created/closed days of every version of a request that changed since
   the last refresh) — or of every day with ``full=True`` or on first use; on DuckDB on a
   cursor of their own, in a worker thread, while the windowed metrics are computed, and after
   a day of changes by the changed requests' delta instead (``day_chain.py``, ``day_delta.py``);
3. recompute the windowed metrics (they read a bounded range of days around the
   data's as-of, kept in the warehouse and brought up to date from the requests
   written since: ``window_rows.py``; independent of the length of the history);
4. hand the results (:class:`~resolve311.metrics.snapshot.Results`) to publishing, which
   builds the snapshot once and gives it to every sink (``resolve311.publish``): by
   default only to the serving file (temporary file + ``os.replace``); the pipeline and
   ``resolve311 metrics`` publish to every configured sink.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Final

import duckdb

from resolve311.metrics import (
    agencies,
    crosscity,
    daily,
    day_chain,
    day_delta,
    definitions,
    engines,
    open_requests,
    snapshot,
    staging,
    stored_reads,
    unit_counts,
    window_rows,
)
from resolve311.metrics.compute import Inputs, compute_all
from resolve311.metrics.staging import fetch_first
from resolve311.metrics.window_tables import Context
from resolve311.metrics.windows import as_of_date_for, dnum, local_ms, unit_moments, unit_span_days
from resolve311.settings import Settings
from resolve311.warehouse.connection import connect, open_warehouse
from resolve311.warehouse.lock import update_lock


@dataclass
class RefreshReport:
    """What one refresh did."""

    mode: str  # 'full' | 'incremental' | 'empty'
    engine: str
    as_of: datetime | None
    as_of_date: date | None
    days_recomputed: int  # the days whose stored counts were brought up to date (a delta or a recompute)
    rows: dict[str, int] = field(default_factory=dict)
    snapshot_path: Path | None = None
    seconds: float = 0.0
    results: snapshot.Results | None = None


def refresh_metrics(
    settings: Settings,
    *,
    affected_dates: Collection[date] | None = None,
    full: bool = False,
    engine: str | None = None,
    progress: Progress | None = None,
    close: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
) -> RefreshReport:
    """Recompute the affected days' counts and every windowed metric; return them as ``report.results``.

    Publishing them is the caller's (``resolve311.publish``; ``publish.refresh_and_publish``
    does both). This is also "the refresh after a day of changes": called after a load with no
    arguments, it finds the changed requests itself (the versions landed since the last refresh)
    and recomputes only the days they touch; ``full=True`` rebuilds every stored day (after a
    definition change). ``progress(done, total, step)`` is called as each step starts.

    Holds the update lock (re-entrant: a pipeline run already holding it goes straight on), so
    a refresh and an update never share the warehouse; LockBusy when another process has it.
    DuckDB keeps within ``metrics_memory_limit`` and spills to ``HOME/tmp`` beyond it.
    ``close`` is handed the warehouse connection once the refresh succeeded (default: closed
    here); ``publish.refresh_and_publish`` closes it in a thread while it builds the release —
    closing writes the checkpoint, without the GIL. The caller still holds the update lock then.
    """
    started = time.monotonic()
    engine_name = engines.check_engine(engine or settings.engine)
    step = _Steps(progress)
    with update_lock(settings.lock_path, command="metrics"), _warehouse(settings, close) as con:
        _bound_memory(con, settings)
        step("staging the inputs")
        daily.ensure_derived_tables(con)
        _stage(con, settings)
        report = _refresh(con, settings, engine_name, affected_dates, full, step)
    step("done")
    report.seconds = time.monotonic() - started
    return report


@contextmanager
def _warehouse(
    settings: Settings, close: Callable[[duckdb.DuckDBPyConnection], object] | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse connection; closed here on failure, else by ``close`` when given (the checkpoint
    threshold reset first: :func:`_defer_checkpoint`)."""
    if close is None:
        with open_warehouse(settings.warehouse_path) as con:
            yield con
            con.execute("RESET checkpoint_threshold")
        return
    con = connect(settings.warehouse_path)
    try:
        yield con
    except BaseException:
        con.close()
        raise
    con.execute("RESET checkpoint_threshold")
    close(con)


def _stage(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The input views of ``settings``' source on ``con`` (each connection has its own)."""
    city = settings.city()
    area = city.main_area.column if city.main_area and city.main_area.column else "borough"
    duplicate = staging.duplicate_sql(city.rules)
    staging.create_input_views(con, settings.source, city.bbox, area, duplicate)


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
        _stage(cursor, settings)
        yield cursor


#: Called as each step of a refresh starts: (steps done, steps in all, what starts now).
Progress = Callable[[int, int, str], None]
STEPS = ("staging the inputs", "daily counts", "windowed metrics", "calibration")


class _Steps:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def __call__(self, name: str) -> None:
        if self.progress is not None:
            done = STEPS.index(name) if name in STEPS else len(STEPS)
            self.progress(done, len(STEPS), name)


def _bound_memory(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """DuckDB within the configured memory, spilling to disk beyond it (a full refresh at any size)."""
    settings.spill_path.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{settings.metrics_memory_limit.strip()}'")
    con.execute("SET temp_directory = ?", [str(settings.spill_path)])
    con.execute("SET preserve_insertion_order = false")


def _refresh(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    engine_name: str,
    affected_dates: Collection[date] | None,
    full: bool,
    step: Callable[[str], None],
) -> RefreshReport:
    source = settings.source
    days = None if full else _affected_days(con, source, affected_dates)
    if days is not None:
        _defer_checkpoint(con)
    agencies.update(con, source, days)
    as_of = agencies.as_of(con, source)
    status = snapshot.read_status_tables(con, source, as_of)
    meta = snapshot.base_meta(settings) | {
        "generated_at": snapshot.generated_now(),
        "data_generation": snapshot.data_generation(con, source),
        "metrics_status": "published",
        "metrics_note": None,
    }
    if as_of is None:
        daily.write_state(con, source, None)
        results = snapshot.Results(status, meta | {"as_of": None, "as_of_date": None})
        return RefreshReport(
            "empty", engine_name, None, None, 0, snapshot_path=settings.snapshot_path, results=results
        )
    ctx = _context(con, settings, as_of)
    # the windows' reach (the 1-year unit of the 28-day window, the longest cohort lag) and the
    # cross-city tables' created days, which read the same staged rows
    reach = max(unit_span_days(28) + max(definitions.COHORT_DAYS), crosscity.DAYS)
    since = dnum(ctx.as_of_date) - reach
    changes = _update_kept_rows(con, settings, ctx, since, full=days is None)
    delta = day_chain.usable_delta(con, source, engine_name, days, changes)
    with (
        _day_connection(con, settings, engine_name) as day_con,
        ThreadPoolExecutor(max_workers=1) as pool,
        ThreadPoolExecutor(max_workers=1) as side_pool,
    ):
        kept = window_rows.INPUT if day_con is con else f"({window_rows.input_sql(source, since)})"
        staging.create_day_input(day_con, [] if delta else _sorted(days), (kept, since))
        with _inputs(con, settings, engine_name, day_con) as inputs:
            if engine_name == "duckdb":
                inputs = dataclasses.replace(inputs, kept=_kept(con, source, ctx, since, changes))
            step("daily counts")
            # the day tables do not feed the windowed queries: the engine runs both at once
            day_input = day_chain.DayInput(inputs.day_requests, (kept, since))
            counted = pool.submit(day_chain.update, day_con, day_input, source, days, delta)
            if day_con is con:
                counted.result()  # one connection: not shared between threads
            step("windowed metrics")
            # the stored rows' reads (after the day tables: the series and the panel read them)
            # start once the big windowed queries are done and overlap the kept counts, the numpy
            # and the windows' pandas (the engine holds no GIL)
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
    daily.write_state(con, source, as_of)
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


def _update_kept_rows(
    con: duckdb.DuckDBPyConnection, settings: Settings, ctx: Context, since: int, *, full: bool
) -> day_delta.Changes | None:
    """The window rows and the open requests brought up to date at once: the open requests on a
    cursor of their own in a worker thread (each is one transaction on its own table)."""
    first_moment = min(m.ms for m in unit_moments(ctx.as_of_date, ctx.tz))
    with con.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
        _stage(cursor, settings)
        opened = pool.submit(open_requests.update, cursor, settings.source, first_moment, full=full)
        changes = window_rows.update(con, settings.source, since, full=full).changes
        opened.result()
    open_requests.create_input_view(con, settings.source)
    return changes


#: An incremental refresh's writes (tens of MB) are checkpointed when its connection closes, not by
#: the commit that crosses DuckDB's 16 MB default: that was the kept counts' commit, ~0.3 s on the
#: critical path at 40M, where the close overlaps the release (``publish.refresh_and_publish``).
DEFERRED_CHECKPOINT: Final[str] = "1GB"


def _defer_checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"SET checkpoint_threshold = '{DEFERRED_CHECKPOINT}'")


def _kept(
    con: duckdb.DuckDBPyConnection, source: str, ctx: Context, since: int, changes: day_delta.Changes | None
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


def _affected_days(
    con: duckdb.DuckDBPyConnection, source: str, affected_dates: Collection[date] | None
) -> set[int] | None:
    """Day numbers to recompute, or None for all (first refresh, or after a definition change).

    However many days a change touches, recomputing them reads only their rows (never more than
    a full rebuild), so there is no cut-off to a full pass.
    """
    state = daily.read_state(con, source)
    if state is None or state.last_batch_seq is None:
        return None
    touched = daily.touched_days(con, source, state.last_batch_seq) | set(affected_dates or ())
    return {dnum(d) for d in touched}


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
