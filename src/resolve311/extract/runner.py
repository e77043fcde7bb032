"""Running one pipeline run: lock, ledger row, catch-up of landed batches, outcome, metrics.

:func:`execute` wraps a run's *body* (a function of :class:`RunContext`) with
everything every run needs, so pipeline.py holds only what differs per run kind.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

import duckdb

from resolve311.errors import LockBusy, Resolve311Error, SourceUnavailable
from resolve311.extract import ledger
from resolve311.extract.lock import update_lock
from resolve311.landing.consumer import apply_batch, drain
from resolve311.landing.store import BatchMeta, LandingStore, Manifest
from resolve311.settings import Settings
from resolve311.sources.catalog import Source, get_source
from resolve311.warehouse.connection import connect
from resolve311.warehouse.loader import LoadResult

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
            self._sources[name] = get_source(name, self.settings.home / "sources")
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
    """Run ``body`` under the update lock with a ledger row; never leaves a half-loaded batch."""
    source = get_source(source_name or settings.source, settings.home / "sources")
    report = RunReport(
        run_id=uuid.uuid4().hex[:16], source=source.name, kind=kind, started_at=ledger.utcnow()
    )
    with update_lock(settings.lock_path):
        con = _open_warehouse(settings)
        try:
            _run_body(settings, source, con, report, body, drain_first)
        finally:
            con.close()
            if report.status != "interrupted" and refresh:
                _after_run(settings, report, full=full_refresh)
    return report


def _open_warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The warehouse for writing; LockBusy when another process (not an update) holds it."""
    try:
        return connect(settings.warehouse_path)
    except duckdb.IOException as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LockBusy(f"the warehouse is in use by another process: {first_line}") from None


def _run_body(
    settings: Settings, source: Source, con: duckdb.DuckDBPyConnection, report: RunReport,
    body: Callable[[RunContext], None], drain_first: bool,
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
        if drain_first:
            pending = drain(con, run.store, run.source_for, lambda _m, r: run.record(r))
            if pending:
                log.info("loaded %d landed batch(es) left from an earlier run", pending)
        body(run)
        report.status = "success"
    except SourceUnavailable as exc:
        _fail(report, "source_unavailable", exc)
    except Resolve311Error as exc:
        _fail(report, "failed", exc)
    except KeyboardInterrupt as exc:
        _fail(report, "interrupted", exc)
        raise
    except Exception as exc:
        _fail(report, "failed", exc)
        raise
    finally:
        _close_ledger(con, source, report)


def _fail(report: RunReport, status: str, exc: BaseException) -> None:
    report.status = status
    report.error = str(exc) or type(exc).__name__
    log.log(
        logging.WARNING if status != "failed" else logging.ERROR,
        "%s run %s: %s",
        report.kind,
        status,
        report.error,
    )


def _close_ledger(con: duckdb.DuckDBPyConnection, source: Source, report: RunReport) -> None:
    report.ended_at = ledger.utcnow()
    report.watermark_after = ledger.watermark(con, source.name)
    datasets = [d.id for d in source.datasets]
    if report.kind in ("update", "backfill"):
        if report.status == "source_unavailable":
            ledger.mark_unavailable(con, source.name, datasets)
        elif report.status == "success":
            ledger.mark_reachable(con, source.name, datasets, success=report.kind == "update")
    ledger.finish_run(
        con, run_id=report.run_id, status=report.status, counts=report.counts,
        watermark_after=report.watermark_after, full_replace=report.full_replace, error=report.error,
    )  # fmt: skip


def _after_run(settings: Settings, report: RunReport, *, full: bool) -> None:
    """Refresh metrics for what changed (if anything did), then republish the status."""
    try:
        if report.affected_dates or full:
            refresh = _metrics_function("refresh", "refresh_metrics")
            refresh(settings, affected_dates=sorted(report.affected_dates), full=full)
            report.metrics = "refreshed"
        else:
            report.metrics = "nothing to refresh"
        _metrics_function("snapshot", "publish_status")(settings)
    except ImportError as exc:
        report.metrics = "skipped (metrics not available)"
        log.info("metrics step skipped: %s", exc)
    except Exception as exc:  # the data run's outcome stands; the metrics failure is reported
        report.metrics = f"failed: {exc}"
        log.exception("metrics step failed")
    try:  # copy the snapshot to the other sinks (lake, PostgreSQL); each outcome is in the ledger
        from resolve311.publish import publish_release

        publish_release(settings, run_id=report.run_id)
    except Exception:
        log.exception("publish step failed")


def _metrics_function(module: str, name: str) -> Callable[..., Any]:
    """A function of engineer D's metrics package, imported only when needed."""
    loaded = importlib.import_module(f"resolve311.metrics.{module}")
    function = getattr(loaded, name, None)
    if function is None:
        raise ImportError(f"resolve311.metrics.{module} has no {name}")
    return cast(Callable[..., Any], function)
