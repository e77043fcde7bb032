"""Publish a release to every configured sink, each outcome in the ``publishes`` ledger.

:func:`publish_results` is the one publish path of a run: it builds the release from the
metrics' results and hands that same release to every sink. :func:`publish_release`
republishes the serving file already in place (``resolve311 publish``: a retry).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import duckdb

from resolve311.metrics.refresh import Progress, RefreshReport, refresh_metrics
from resolve311.metrics.snapshot import Results
from resolve311.publish import ledger
from resolve311.publish.base import Release, Sink
from resolve311.publish.release import build_release, discard
from resolve311.publish.sinks import configured_sinks
from resolve311.settings import Settings
from resolve311.warehouse.connection import open_warehouse
from resolve311.warehouse.lock import update_lock

log = logging.getLogger(__name__)

_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


@dataclass(frozen=True)
class Outcome:
    """What happened to one sink: 'success', 'failed' or 'skipped' (already published)."""

    sink: str
    status: str
    detail: str | None = None
    error: str | None = None
    seconds: float = 0.0


def refresh_and_publish(
    settings: Settings,
    *,
    affected_dates: Collection[date] | None = None,
    full: bool = False,
    engine: str | None = None,
    only: Sequence[str] | None = ("serving",),
) -> RefreshReport:
    """Refresh the metrics and publish the results to ``only`` (default: the serving file).

    For library callers, tests and benchmarks; the pipeline's stages publish to every sink
    themselves. Holds the (re-entrant) update lock throughout (:func:`refresh_then_publish`).
    """
    report, _ = refresh_then_publish(
        settings, affected_dates=affected_dates, full=full, engine=engine, only=only
    )
    return report


def refresh_then_publish(
    settings: Settings,
    *,
    affected_dates: Collection[date] | None = None,
    full: bool = False,
    engine: str | None = None,
    only: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> tuple[RefreshReport, list[Outcome]]:
    """Refresh the metrics and publish the results to every sink (or those in ``only``): the report
    and each sink's outcome (``resolve311 metrics``).

    Holds the (re-entrant) update lock throughout. The refresh's warehouse connection is closed
    (its checkpoint written, without the GIL) in a thread while the release is built, which needs
    no warehouse; the ledger then opens it again.
    """
    outcomes: list[Outcome] = []
    with update_lock(settings.lock_path, command="metrics"), ThreadPoolExecutor(max_workers=1) as closer:
        closing: list[Future[None]] = []
        report = refresh_metrics(
            settings,
            affected_dates=affected_dates,
            full=full,
            engine=engine,
            progress=progress,
            close=lambda con: closing.append(closer.submit(con.close)),
        )
        if report.results is not None:
            release = build_release(settings, report.results)
            with _discarded_after(release):
                for done in closing:
                    done.result()
                with open_warehouse(settings.warehouse_path) as con:
                    outcomes = _publish_all(
                        con, _sinks(settings, only), release, force=True, after_required=None
                    )
    return report, outcomes


def current_release(settings: Settings, run_id: str | None = None) -> Release | None:
    """The serving snapshot on disk as a release (None before the first snapshot)."""
    path = settings.snapshot_path
    return Release.of_file(settings, path, run_id) if path.exists() else None


def publish_results(
    settings: Settings,
    results: Results,
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str | None = None,
    only: Sequence[str] | None = None,
    after_required: Callable[[], object] | None = None,
) -> list[Outcome]:
    """Build the release of ``results`` and publish it to every configured sink (or those in ``only``).

    The required sink (the serving file) goes first; its failure raises (the original error).
    Then ``after_required`` runs (the pipeline commits the run's final status there), then
    the other sinks, whose failures are outcomes, never exceptions. ``con`` is the warehouse
    (the caller holds the update lock).
    """
    release = build_release(settings, results, run_id)
    with _discarded_after(release):
        return _publish_all(con, _sinks(settings, only), release, force=True, after_required=after_required)


@contextmanager
def _discarded_after(release: Release) -> Iterator[None]:
    """The release's temporary snapshot file is removed when the block ends, however it ends."""
    try:
        yield
    finally:
        discard(release.snapshot_path)


def _sinks(settings: Settings, only: Sequence[str] | None) -> list[Sink]:
    return [s for s in configured_sinks(settings) if only is None or s.name in only]


def publish_release(
    settings: Settings, *, run_id: str | None = None, only: str | None = None, force: bool = False
) -> list[Outcome]:
    """Publish the serving file in place to each sink not yet holding it (a retry); never raises for a sink.

    The caller holds the update lock (the warehouse is opened for writing the ledger).
    """
    release = current_release(settings, run_id)
    if release is None:
        return []
    sinks = [s for s in configured_sinks(settings) if only is None or s.name == only]
    with open_warehouse(settings.warehouse_path) as con:
        return _publish_all(con, sinks, release, force=force, after_required=None)


def _publish_all(
    con: duckdb.DuckDBPyConnection,
    sinks: Sequence[Sink],
    release: Release,
    *,
    force: bool,
    after_required: Callable[[], object] | None,
) -> list[Outcome]:
    ledger.interrupt_stale(con)
    outcomes = []
    for sink in (s for s in sinks if s.required):
        outcomes.append(_publish_one(con, sink, release, force))  # raises on failure
    if after_required is not None:
        after_required()
    for sink in (s for s in sinks if not s.required):
        try:
            outcomes.append(_publish_one(con, sink, release, force))
        except Exception as exc:  # even the ledger failing (a full disk) never blocks the dashboard
            log.error("publish to %s could not be recorded: %s", sink.name, one_line(exc))
            outcomes.append(Outcome(sink.name, "failed", error=one_line(exc)))
    return outcomes


def _publish_one(con: duckdb.DuckDBPyConnection, sink: Sink, release: Release, force: bool) -> Outcome:
    if not force and ledger.published(con, sink.name, release.generation):
        return Outcome(sink.name, "skipped", "already published")
    ledger.start(con, release.run_id, sink.name, release.generation, release.as_of)
    started = time.monotonic()
    try:
        detail = sink.publish(release, con)
    except Exception as exc:  # an optional sink's failure is its own outcome: the others still run
        error = one_line(exc)
        log.error("publish to %s failed: %s", sink.name, error)
        if sink.required:  # the caller's transaction (if any) rolls the ledger back with the rest
            raise
        ledger.finish(con, sink.name, release.generation, error=error, detail=None)
        return Outcome(sink.name, "failed", error=error, seconds=time.monotonic() - started)
    ledger.finish(con, sink.name, release.generation, error=None, detail=detail)
    log.info("published %s to %s: %s", release.generation, sink.name, detail)
    return Outcome(sink.name, "success", detail, seconds=time.monotonic() - started)


def one_line(exc: BaseException) -> str:
    """The first line of an error, with any password in a URL replaced by ***."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return _PASSWORD.sub(r"\1***@", text)
