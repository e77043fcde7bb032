"""Running one pipeline run: lock, ledger row, catch-up of landed batches, outcome, metrics.

:func:`execute` wraps a run's *body* (a function of :class:`RunContext`) with
everything every run needs, so the package's ``__init__`` holds only what differs per run kind.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from resolve311.errors import (
    DiskFull,
    LockBusy,
    Resolve311Error,
    SourceUnavailable,
    first_line,
    interrupts_kept,
    known_error,
    root_cause,
)
from resolve311.landing.store import BatchMeta, LandingStore, Manifest
from resolve311.logs import redact, register_secret
from resolve311.pipeline import ledger
from resolve311.pipeline.consumer import apply_batch, drain
from resolve311.pipeline.disk_reserve import keep_reserve, release_reserve
from resolve311.pipeline.stages import finish_stages, remove_stale_temps
from resolve311.settings import Settings
from resolve311.sources.catalog import Source, get_source
from resolve311.warehouse.connection import connect, open_warehouse
from resolve311.warehouse.loader import LoadResult
from resolve311.warehouse.lock import update_lock

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass
class RunReport:
    """The outcome of one run, as recorded in the ``runs`` ledger (plus a few details)."""

    run_id: str
    source: str
    kind: str
    started_at: datetime
    status: str = "running"
    ended_at: datetime | None = None
    counts: ledger.RunCounts = field(default_factory=ledger.RunCounts)
    watermark_before: datetime | None = None
    watermark_after: datetime | None = None
    full_replace: bool = False
    error: str | None = None
    batches: int = 0
    affected_dates: set[date] = field(default_factory=set)
    files: list[dict[str, Any]] = field(default_factory=list)
    metrics: str = "not run"
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (timestamps as ISO text, UTC)."""

        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(timespec="milliseconds") + "Z"

        summary: dict[str, Any] = {
            "run_id": self.run_id,
            "source": self.source,
            "kind": self.kind,
            "status": self.status,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "rows_new": self.counts.rows_new,
            "rows_changed": self.counts.rows_changed,
            "rows_unchanged": self.counts.rows_unchanged,
            "rows_quarantined": self.counts.rows_quarantined,
            "batches": self.batches,
            "watermark_before": iso(self.watermark_before),
            "watermark_after": iso(self.watermark_after),
            "full_replace": self.full_replace,
            "affected_dates": len(self.affected_dates),
            "metrics": self.metrics,
            "error": self.error,
        }
        if self.files:
            summary["files"] = self.files
        return summary


class RunContext:
    """What a run's body works with: settings, source, warehouse connection, landing log, report."""

    def __init__(self, settings: Settings, source: Source, con: duckdb.DuckDBPyConnection, report: RunReport):
        self.settings = settings
        self.source = source
        self.con = con
        self.report = report
        self.store = LandingStore(settings.landing_location)
        self._sources: dict[str, Source] = {source.name: source}

    def source_for(self, name: str) -> Source:
        """The catalog entry of a landed batch's source."""
        if name not in self._sources:
            self._sources[name] = get_source(name, self.settings.catalog_dir)
        return self._sources[name]

    def land_and_load(self, data: bytes, meta: BatchMeta) -> tuple[Manifest, LoadResult]:
        """Append a batch to the landing log, then load it (with checkpoint and watermark)."""
        manifest = self.store.append(data, meta)
        result = apply_batch(self.con, manifest, data, self.source_for(manifest.source))
        if result is None:  # cannot happen for a fresh sequence number, but stay honest
            raise RuntimeError(f"landing batch {manifest.seq} was already loaded")
        self.record(result)
        return manifest, result

    def record(self, result: LoadResult) -> None:
        """Add one load's counts to the report."""
        counts = self.report.counts
        counts.rows_new += result.rows_new
        counts.rows_changed += result.rows_changed
        counts.rows_unchanged += result.rows_unchanged
        counts.rows_quarantined += result.rows_quarantined
        self.report.affected_dates |= set(result.affected_dates)
        self.report.batches += 1


def execute(
    settings: Settings,
    kind: str,
    body: Callable[[RunContext], None],
    *,
    source_name: str | None = None,
    refresh: bool = True,
    drain_first: bool = True,
    full_refresh: bool = False,
) -> RunReport:
    """Run ``body`` under the update lock with a ledger row; never leaves a half-loaded batch.

    The run is ``success`` only once its metrics are refreshed and its status published
    (``stages.finish_stages``); with ``refresh=False`` it is ``success`` after the load.
    """
    register_secret(settings.token())
    settings = settings_of(settings, source_name)
    source = settings.city()
    report = RunReport(
        run_id=uuid.uuid4().hex[:16], source=source.name, kind=kind, started_at=ledger.utcnow()
    )
    with update_lock(settings.lock_path, command=kind):
        remove_stale_temps(settings.snapshot_path)
        keep_reserve(settings)
        con = open_for_writing(settings)
        try:
            _run_body(settings, source, con, report, body, drain_first, keep_open=refresh)
        finally:
            con.close()
            if report.status != "interrupted" and refresh:
                finish_stages(settings, report, full=full_refresh)
    return report


def settings_of(settings: Settings, source_name: str | None) -> Settings:
    """The settings a run of ``source_name`` works with: its metrics, snapshot and lock are that source's.

    In a several-city home that is the city's own settings (``source_name`` required when the
    home keeps more than one); in a single-city home, a named source loads into this home.
    """
    if settings.several_cities:
        return settings.one_city(source_name)
    if source_name is None or source_name == settings.source:
        return settings
    return settings.model_copy(update={"source": source_name})


def open_for_writing(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The warehouse for writing; LockBusy when another process (not an update) holds it."""
    try:
        return connect(settings.warehouse_path)
    except duckdb.IOException as exc:
        known = known_error(exc)
        if isinstance(known, DiskFull):
            raise known from None
        raise LockBusy(f"the warehouse is in use by another process: {first_line(exc)}") from None


def _run_body(
    settings: Settings, source: Source, con: duckdb.DuckDBPyConnection, report: RunReport,
    body: Callable[[RunContext], None], drain_first: bool, *, keep_open: bool,
) -> None:  # fmt: skip
    stale = ledger.interrupt_stale_runs(con)
    if stale:
        log.warning("marked %d earlier run(s) as interrupted", stale)
    unrefreshed = ledger.unrefreshed_since(con)
    if unrefreshed is not None:  # interrupted runs loaded data but never refreshed its metrics
        report.affected_dates |= ledger.dates_loaded_since(con, unrefreshed)
    report.watermark_before = ledger.watermark(con, source.name)
    ledger.start_run(
        con, run_id=report.run_id, source=source.name, kind=report.kind,
        started_at=report.started_at, watermark_before=report.watermark_before,
    )  # fmt: skip
    run = RunContext(settings, source, con, report)
    try:
        with interrupts_kept():  # a Ctrl-C/SIGTERM that reached a DuckDB query is one too
            if drain_first:
                pending = drain(con, run.store, run.source_for, lambda _m, r: run.record(r))
                if pending:
                    log.info("loaded %d landed batch(es) left from an earlier run", pending)
            body(run)
        report.status = "success"
    except SourceUnavailable as exc:
        _fail(report, "source_unavailable", exc)
    except KeyboardInterrupt as exc:
        _fail(report, "interrupted", exc)
        raise
    except Exception as exc:
        known = known_error(exc)
        _fail(report, "failed", known or root_cause(exc))
        if known is None:
            log.debug("unexpected error in the %s run", report.kind, exc_info=True)
    finally:
        _close_ledger(settings, con, source, report, keep_open=keep_open)


def _fail(report: RunReport, status: str, exc: BaseException) -> None:
    report.status = status
    text = first_line(exc)
    if not isinstance(exc, Resolve311Error | KeyboardInterrupt):
        text = f"{type(exc).__name__}: {text}"
    report.error = redact(text)
    report.error_type = type(exc).__name__
    log.log(
        logging.WARNING if status != "failed" else logging.ERROR,
        "%s run %s: %s",
        report.kind,
        status,
        report.error,
    )


def _close_ledger(
    settings: Settings, con: duckdb.DuckDBPyConnection, source: Source, report: RunReport, *, keep_open: bool
) -> None:
    """Record the load's outcome; a successful run stays 'running' while its metrics are published.

    A connection broken by the failure (a full disk invalidates it) is replaced by a new one,
    so the real cause reaches the ledger whenever the disk takes the few bytes it needs.
    """
    status = "running" if report.status == "success" and keep_open else report.status
    try:
        _write_outcome(con, source, report, status, keep_open)
        return
    except duckdb.Error as exc:
        log.warning("could not record the run's outcome; retrying on a new connection: %s", first_line(exc))
    con.close()
    release_reserve(settings)  # a full disk: free the reserved space so the cause can be recorded
    try:
        with open_warehouse(settings.warehouse_path) as fresh:
            _write_outcome(fresh, source, report, status, keep_open)
    except duckdb.Error as exc:
        log.error("the ledger could not be written (%s); the next run marks run %s interrupted",
                  first_line(exc), report.run_id)  # fmt: skip


def _write_outcome(
    con: duckdb.DuckDBPyConnection, source: Source, report: RunReport, status: str, keep_open: bool
) -> None:
    with contextlib.suppress(duckdb.Error):
        con.rollback()  # a failure may have left a transaction open
    report.ended_at = ledger.utcnow()
    report.watermark_after = ledger.watermark(con, source.name)
    datasets = [d.id for d in source.datasets]
    if report.kind in ("update", "backfill"):
        if report.status == "source_unavailable":
            ledger.mark_unavailable(con, source.name, datasets)
        elif report.status == "success":
            ledger.mark_reachable(con, source.name, datasets, success=report.kind == "update")
    ledger.finish_run(
        con, run_id=report.run_id, status=status, counts=report.counts,
        watermark_after=report.watermark_after, full_replace=report.full_replace, error=report.error,
    )  # fmt: skip
    if not keep_open and report.status != "interrupted":
        ledger.finish_stage(con, report.run_id, "metrics", "skipped", detail="--skip-metrics")
