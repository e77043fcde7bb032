"""What follows a run's load: the ``metrics`` stage, then the ``publish`` stage.

Each stage has its own row in the ``run_stages`` ledger. The metrics stage produces
results; the publish stage hands them, with the run's final status, to every sink
(``resolve311.publish``). A run whose load succeeded stays ``running`` in ``runs`` until
the publish stage commits, in ONE warehouse transaction, its final status together with
the serving snapshot that shows it (the lake and PostgreSQL come after that commit and
never fail the run): so a
run is ``success`` only when its snapshot is published, and a run killed at any moment
before that is marked ``interrupted`` by the next one, which refreshes whatever the
snapshot is missing (:func:`resolve311.metrics.snapshot.behind_reason` compares the
warehouse's generation with the snapshot's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb

from resolve311.errors import Resolve311Error, first_line, known_error, root_cause, stop_if_interrupted
from resolve311.logs import redact
from resolve311.metrics.snapshot_temps import remove_stale_temps
from resolve311.pipeline import ledger
from resolve311.pipeline.disk_reserve import release_reserve
from resolve311.settings import Settings
from resolve311.warehouse.connection import open_warehouse

if TYPE_CHECKING:
    from resolve311.metrics.snapshot import Results
    from resolve311.pipeline.run import RunReport

__all__ = ["describe", "finish_stages", "remove_stale_temps"]

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> tuple[str, str]:
    """(one-line redacted message, error type name) of a failure, its real cause first."""
    cause: BaseException = known_error(exc) or root_cause(exc)
    text = first_line(cause)
    if not isinstance(cause, Resolve311Error):
        text = f"{type(cause).__name__}: {text}"
    return redact(text), type(cause).__name__


def finish_stages(settings: Settings, report: RunReport, *, full: bool) -> None:
    """Refresh the metrics if the snapshot is behind, then close the run and publish its status."""
    if report.error_type == "DiskFull":  # the refresh would only fill the disk again
        report.metrics, results = "skipped (disk full)", None
        _record(
            settings,
            lambda c: ledger.finish_stage(c, report.run_id, "metrics", "skipped", detail="disk full"),
        )
        metrics_error = None
    else:
        metrics_error, results = _metrics_stage(settings, report, full)
    if metrics_error is not None and report.status == "success":
        report.status, report.error = "failed", f"metrics failed: {metrics_error[0]}"
        report.error_type = metrics_error[1]
    if metrics_error is not None and metrics_error[1] == "DiskFull":
        _close_on_full_disk(settings, report)
        return
    note = None
    if metrics_error is not None:
        note = f"metrics not refreshed by run {report.run_id}: {metrics_error[0]}; showing the last published ones"
    _publish_stage(settings, report, note, results)


def _close_on_full_disk(settings: Settings, report: RunReport) -> None:
    """The disk filled while refreshing: free the reserve and record why; publishing would fill it again."""
    release_reserve(settings)

    def close(con: duckdb.DuckDBPyConnection) -> None:
        ledger.finish_stage(con, report.run_id, "publish", "skipped", detail="disk full")
        ledger.close_run(con, report.run_id, report.status, report.error)

    _record(settings, close)


def _record(settings: Settings, write: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Write to the ledger on a short connection; a failure (full disk) is logged, not raised."""
    try:
        with open_warehouse(settings.warehouse_path) as con:
            write(con)
    except duckdb.Error as exc:
        log.error("could not write the ledger: %s", describe(exc)[0])


def _metrics_stage(
    settings: Settings, report: RunReport, full: bool
) -> tuple[tuple[str, str] | None, Results | None]:
    """Refresh the metrics when anything changed or the snapshot is behind: ((error, type) on failure, results)."""
    from resolve311.metrics import snapshot
    from resolve311.metrics.refresh import refresh_metrics

    try:
        with open_warehouse(settings.warehouse_path) as con:
            behind = snapshot.behind_reason(con, settings)
            if not (report.affected_dates or full or behind):
                report.metrics = "nothing to refresh"
                ledger.finish_stage(con, report.run_id, "metrics", "skipped", detail="nothing to refresh")
                return None, None
            detail = behind or f"{len(report.affected_dates)} affected date(s)"
            ledger.start_stage(con, report.run_id, "metrics", detail=detail)
        log.info("metrics stage started for run %s (%s)", report.run_id, detail)
        result = refresh_metrics(settings, affected_dates=sorted(report.affected_dates), full=full)
    except Exception as exc:  # the load's outcome stands; the failure is recorded with its real cause
        stop_if_interrupted(exc)  # as a kill would: the stage stays running, the next run finishes it
        error = describe(exc)
        report.metrics = f"failed: {error[0]}"
        log.error("metrics stage of run %s failed: %s", report.run_id, error[0])
        log.debug("metrics stage failure", exc_info=True)
        _record(
            settings, lambda c: ledger.finish_stage(c, report.run_id, "metrics", "failed", error=error[0])
        )
        return error, None
    report.metrics = "refreshed"
    done = f"{result.mode} refresh, {result.days_recomputed} day(s)"
    _record(settings, lambda c: ledger.finish_stage(c, report.run_id, "metrics", "success", detail=done))
    return None, result.results


def _publish_stage(settings: Settings, report: RunReport, note: str | None, results: Results | None) -> None:
    """Commit the run's final status with the snapshot showing it, then the other sinks; or record why not."""
    from resolve311.metrics import snapshot
    from resolve311.publish import publish_results

    _record(settings, lambda c: ledger.start_stage(c, report.run_id, "publish"))
    log.info("publish stage started for run %s", report.run_id)
    try:
        with open_warehouse(settings.warehouse_path) as con:
            con.begin()
            ledger.close_run(con, report.run_id, report.status, report.error)
            ledger.finish_stage(con, report.run_id, "publish", "success")
            final = snapshot.status_results(settings, con, metrics=results, metrics_note=note)
            # the run is final only once its snapshot is in place: commit right after the serving sink
            publish_results(settings, final, con, run_id=report.run_id, after_required=con.commit)
    except Exception as exc:
        stop_if_interrupted(exc)
        error, kind = describe(exc)
        log.error("publish stage of run %s failed: %s", report.run_id, error)
        if report.status in ("success", "running"):
            report.status, report.error, report.error_type = "failed", f"publish failed: {error}", kind

        def failed(con: duckdb.DuckDBPyConnection) -> None:
            ledger.finish_stage(con, report.run_id, "publish", "failed", error=error)
            ledger.close_run(con, report.run_id, report.status, report.error)

        _record(settings, failed)
