"""Refresh the metrics after a load and publish the serving snapshot.

``refresh_metrics`` (called by the pipeline and ``resolve311 metrics``):

1. stage the warehouse as narrow input views;
2. bring the rows the metrics read up to date (this module, free of pandas and Ibis, which are
   imported meanwhile in a thread: the engine's work here holds no GIL): the agencies' day totals,
   the window rows (a bounded range of days around the data's as-of, kept in the warehouse and
   brought up to date from the requests written since: ``window_rows.py``; independent of the
   length of the history) and, once Ibis is in, the open requests;
3. recompute from them (``recompute.py``) the daily counts of the affected days only (the days
   passed in, plus the created/closed days of every version of a request that changed since the
   last refresh) — or of every day with ``full=True`` or on first use; on DuckDB on a cursor of
   their own, in a worker thread, while the windowed metrics are computed, and after a day of
   changes by the changed requests' delta instead (``day_chain.py``, ``day_delta.py``) — and
   every windowed metric;
4. hand the results (:class:`~resolve311.metrics.snapshot.Results`) to publishing, which
   builds the snapshot once and gives it to every sink (``resolve311.publish``): by
   default only to the serving file (temporary file + ``os.replace``); the pipeline and
   ``resolve311 metrics`` publish to every configured sink.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Final

import duckdb

from resolve311.errors import ConfigError
from resolve311.metrics import agencies, crosscity, refresh_state, staging, window_rows
from resolve311.metrics.windows import COHORT_DAYS, as_of_date_for, dnum, unit_moments, unit_span_days
from resolve311.settings import Settings
from resolve311.warehouse.connection import connect, open_warehouse
from resolve311.warehouse.lock import update_lock

if TYPE_CHECKING:
    from resolve311.metrics import snapshot

ENGINES: Final[tuple[str, ...]] = ("duckdb", "spark")

#: Imported in a thread while the first phase runs (pandas, Ibis and the definitions: ~0.7 s on one
#: core, which the first phase's engine work overlaps; docs/metrics.md, "Tenth round"). The open
#: requests' module first: their update compiles an Ibis rule and waits for it.
DEFERRED_MODULES: Final[tuple[str, ...]] = (
    "resolve311.metrics.open_requests",
    "resolve311.metrics.recompute",
)


def check_engine(name: str) -> str:
    """Validate an engine name (one-line ConfigError otherwise)."""
    if name not in ENGINES:
        raise ConfigError(f"unknown metrics engine {name!r}; use one of: {', '.join(ENGINES)}")
    return name


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


@dataclass(frozen=True)
class Kept:
    """What the first phase brought up to date: the days to recount (None: every day), the data's
    as-of (None: no rows), the windows' first day number and the window rows' changes (None after
    a rebuild or before the first batch)."""

    days: set[int] | None
    as_of: datetime | None
    since: int
    changes: window_rows.Changes | None


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
    engine_name = check_engine(engine or settings.engine)
    step = _Steps(progress)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="refresh-imports") as importer:
        imported = [importer.submit(importlib.import_module, name) for name in DEFERRED_MODULES]
        with update_lock(settings.lock_path, command="metrics"), _warehouse(settings, close) as con:
            _bound_memory(con, settings)
            step("staging the inputs")
            refresh_state.ensure_derived_tables(con)
            stage_inputs(con, settings)
            kept = _update_kept(con, settings, affected_dates, full, imported[0])
            imported[-1].result()
            from resolve311.metrics import recompute  # imported by now: a lookup

            report = recompute.recompute(con, settings, engine_name, kept, step)
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


def stage_inputs(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The input views of ``settings``' source on ``con`` (each connection has its own)."""
    city = settings.city()
    area = city.main_area.column if city.main_area and city.main_area.column else "borough"
    duplicate = staging.duplicate_sql(city.rules)
    staging.create_input_views(con, settings.source, city.bbox, area, duplicate)


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


def _update_kept(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    affected_dates: Collection[date] | None,
    full: bool,
    open_module: Future[ModuleType],
) -> Kept:
    """The first phase: the days to recount, the agencies' day totals, the as-of, and the window
    rows and open requests brought up to date."""
    source = settings.source
    days = None if full else _affected_days(con, source, affected_dates)
    if days is not None:
        _defer_checkpoint(con)
    agencies.update(con, source, days)
    as_of = agencies.as_of(con, source)
    if as_of is None:
        return Kept(days, None, 0, None)
    as_of_date = as_of_date_for(as_of)
    # the windows' reach (the 1-year unit of the 28-day window, the longest cohort lag) and the
    # cross-city tables' created days, which read the same staged rows
    reach = max(unit_span_days(28) + max(COHORT_DAYS), crosscity.DAYS)
    since = dnum(as_of_date) - reach
    first_moment = min(m.ms for m in unit_moments(as_of_date, settings.city_timezone()))
    changes = _update_kept_rows(con, settings, since, first_moment, days is None, open_module)
    return Kept(days, as_of, since, changes)


def _update_kept_rows(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    since: int,
    first_moment: int,
    full: bool,
    open_module: Future[ModuleType],
) -> window_rows.Changes | None:
    """The window rows and the open requests brought up to date at once: the open requests on a
    cursor of their own in a worker thread (each is one transaction on its own table), as soon as
    their module is imported."""
    with con.cursor() as cursor, ThreadPoolExecutor(max_workers=1) as pool:
        stage_inputs(cursor, settings)
        opened = pool.submit(_update_open_requests, cursor, settings.source, first_moment, full, open_module)
        changes = window_rows.update(con, settings.source, since, full=full).changes
        opened.result()
    from resolve311.metrics import open_requests  # imported by now: a lookup

    open_requests.create_input_view(con, settings.source)
    return changes


def _update_open_requests(
    cursor: duckdb.DuckDBPyConnection, source: str, first_moment: int, full: bool, module: Future[ModuleType]
) -> None:
    module.result()
    from resolve311.metrics import open_requests  # imported by now: a lookup

    open_requests.update(cursor, source, first_moment, full=full)


#: An incremental refresh's writes (tens of MB) are checkpointed when its connection closes, not by
#: the commit that crosses DuckDB's 16 MB default: that was the kept counts' commit, ~0.3 s on the
#: critical path at 40M, where the close overlaps the release (``publish.refresh_and_publish``).
DEFERRED_CHECKPOINT: Final[str] = "1GB"


def _defer_checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"SET checkpoint_threshold = '{DEFERRED_CHECKPOINT}'")


def _affected_days(
    con: duckdb.DuckDBPyConnection, source: str, affected_dates: Collection[date] | None
) -> set[int] | None:
    """Day numbers to recompute, or None for all (first refresh, or after a definition change).

    However many days a change touches, recomputing them reads only their rows (never more than
    a full rebuild), so there is no cut-off to a full pass.
    """
    state = refresh_state.read_state(con, source)
    if state is None or state.last_batch_seq is None:
        return None
    touched = refresh_state.touched_days(con, source, state.last_batch_seq) | set(affected_dates or ())
    return {dnum(d) for d in touched}
