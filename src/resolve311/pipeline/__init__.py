"""The one place where the stages meet: extract -> landing log -> warehouse load -> metrics.

Every run (update, backfill, import, rebuild) holds the update lock, writes a row
in the ``runs`` ledger, first loads any landed batch the warehouse has not
loaded yet, then appends new batches to the landing log and loads each one in a
single transaction with its checkpoint and watermark. After the run, metrics
are refreshed for the affected dates and the status is republished, whatever
the outcome. The guarantees are explained in docs/pipeline.md.

The package holds the whole run: ``run`` (lock, ledger row, outcome), ``consumer``
(the drain of the landing log into the warehouse), ``ledger`` (``runs``,
``source_state``), ``stages`` (metrics, then publish), ``backfill`` and ``imports``
(what those runs do), ``reads`` (``status``, ``export``). The import-layers contract
in pyproject.toml (``make lint``) keeps it the only place where stages meet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from resolve311.errors import ConfigError
from resolve311.extract import soql
from resolve311.extract.incremental import (
    FullReplaceDetected,
    PulledPage,
    WindowPuller,
    watermark_floor,
)
from resolve311.extract.ratelimit import RateLimiter
from resolve311.extract.retry import RetryPolicy
from resolve311.extract.socrata import SocrataClient
from resolve311.landing.store import BatchMeta, Manifest
from resolve311.pipeline import ledger
from resolve311.pipeline.backfill import (
    BACKFILL_CHUNK_DAYS,
    backfill_chunks,
    chunk_key,
    plan_windows,
    run_windows,
)
from resolve311.pipeline.consumer import drain
from resolve311.pipeline.reads import export, status
from resolve311.pipeline.run import (
    Progress,
    RunContext,
    RunReport,
    execute,
    open_for_writing,
    settings_of,
)
from resolve311.settings import Settings
from resolve311.sources.catalog import Dataset, Source
from resolve311.warehouse.loader import LoadResult
from resolve311.warehouse.lock import update_lock
from resolve311.warehouse.transaction import transaction

if TYPE_CHECKING:
    from resolve311.metrics.sla import SlaImport

__all__ = [
    "RunReport",
    "backfill_chunks",
    "chunk_key",
    "export",
    "import_sla",
    "rebuild",
    "run_backfill",
    "run_import",
    "run_update",
    "status",
]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------- update
def run_update(
    settings: Settings,
    *,
    source: str | None = None,
    allow_full_replace: bool = False,
    refresh: bool = True,
) -> RunReport:
    """One incremental run: changes since the watermark, then the trailing created-date window."""

    def body(run: RunContext) -> None:
        with _puller(run.settings, source=run.source) as puller:
            for dataset in run.source.datasets:
                _pull_changes(run, puller, dataset, allow_full_replace)
            for dataset in run.source.datasets:
                _pull_trailing(run, puller, dataset)

    return execute(settings, "update", body, source_name=source, refresh=refresh)


@contextmanager
def _puller(
    settings: Settings,
    *,
    tables: bool = False,
    limiter: RateLimiter | None = None,
    source: Source | None = None,
) -> Iterator[WindowPuller]:
    """A window puller over a Socrata client configured from ``settings`` (closed afterwards)."""
    with SocrataClient.from_settings(settings, limiter=limiter, source=source) as client:
        yield WindowPuller(client, RetryPolicy.from_settings(settings), settings.page_size, tables=tables)


def _dataset_where(run: RunContext, dataset: Dataset) -> str | None:
    return soql.created_between(run.source.created_field, dataset.created_from, dataset.created_until)


def _pull_changes(run: RunContext, puller: WindowPuller, dataset: Dataset, allow_full_replace: bool) -> None:
    stored = ledger.watermark(run.con, run.source.name, dataset.id)
    floor = watermark_floor(stored, run.settings.overlap_minutes)
    in_dataset = _dataset_where(run, dataset)
    where = soql.and_all([in_dataset, soql.updated_since(floor)])
    completed_before = ledger.last_success(run.con, run.source.name, dataset.id) is not None
    if stored is not None and completed_before and not allow_full_replace:
        check = puller.check_full_replace(
            dataset.id, where, run.settings.full_replace_ratio, in_dataset, run.settings.full_replace_min_rows
        )
        if check.detected:
            run.report.full_replace = True
            raise FullReplaceDetected(
                f"{dataset.id}: {check.changed} of {check.total} rows changed since {floor:%Y-%m-%d %H:%M}; "
                "this looks like a full dataset replace. Rerun with --allow-full-replace to re-download."
            )
    log.info("%s: pulling changes since %s", dataset.id, floor or "the beginning")
    for page in puller.pull(dataset.id, where):
        _land(run, page, kind="incremental", advances_watermark=True)


def trailing_start(run: RunContext) -> date | None:
    """First created date of the trailing re-pull: newest created date held minus trailing_days."""
    if run.settings.trailing_days <= 0:
        return None
    row = run.con.execute(
        "SELECT max(created_date) FROM requests WHERE source = ? AND created_date < now() + INTERVAL 1 YEAR",
        [run.source.name],
    ).fetchone()
    newest = row[0] if row else None
    return None if newest is None else newest.date() - timedelta(days=run.settings.trailing_days)


def _pull_trailing(run: RunContext, puller: WindowPuller, dataset: Dataset) -> None:
    start = trailing_start(run)
    if start is None or not dataset.overlaps(start, None):
        return
    since = max(start, dataset.created_from) if dataset.created_from else start
    where = soql.created_between(run.source.created_field, since, dataset.created_until)
    log.info("%s: re-pulling requests created since %s", dataset.id, since)
    for page in puller.pull(dataset.id, where):
        _land(run, page, kind="trailing", advances_watermark=False)


def _land(run: RunContext, page: PulledPage, *, kind: str, advances_watermark: bool) -> None:
    meta = BatchMeta(
        source=run.source.name,
        dataset=page.dataset,
        producer=run.report.kind,
        kind=kind,
        format="json",
        rows=page.rows,
        run_id=run.report.run_id,
        watermark_from=page.first.updated_at,
        watermark_to=page.last.updated_at,
        advances_watermark=advances_watermark,
    )
    run.land_and_load(bytes(page.body), meta)  # bytes already (pulled without tables): no copy


# ----------------------------------------------------------------- backfill
def run_backfill(
    settings: Settings,
    since: date,
    until: date | None = None,
    progress: Progress | None = None,
    *,
    source: str | None = None,
    refresh: bool = True,
    chunk_days: int = BACKFILL_CHUNK_DAYS,
    limiter: RateLimiter | None = None,
) -> RunReport:
    """Pull requests created in [since, until) through the landing log; resumable by chunk.

    ``settings.backfill_workers`` windows are pulled at once (see :mod:`resolve311.pipeline.backfill`);
    ``limiter`` (default: one from ``settings.request_rate``) spaces every request sent.
    """
    if until is not None and until <= since:
        raise ConfigError(f"--until ({until}) must be after --since ({since})")

    def body(run: RunContext) -> None:
        plan = plan_windows(run.source, since, until, ledger.utcnow().date(), chunk_days)
        with _puller(run.settings, tables=True, limiter=limiter, source=run.source) as puller:
            for dataset in run.source.datasets:
                if dataset.overlaps(since, until):
                    _start_watermark(run, puller, dataset)
            run_windows(run, puller, plan, progress, run.settings.backfill_workers)

    return execute(settings, "backfill", body, source_name=source, refresh=refresh)


def _start_watermark(run: RunContext, puller: WindowPuller, dataset: Dataset) -> None:
    """An empty dataset state starts at the source's newest change: later updates continue there."""
    if ledger.watermark(run.con, run.source.name, dataset.id) is not None:
        return
    newest = puller.latest_update(dataset.id, _dataset_where(run, dataset))
    if newest is not None:
        ledger.advance_watermark(run.con, run.source.name, dataset.id, newest)


# ------------------------------------------------------------------- import
def run_import(
    settings: Settings,
    files: Sequence[Path],
    progress: Progress | None = None,
    *,
    source: str | None = None,
    refresh: bool = True,
    rows_per_part: int = 50_000,
    bulk: bool = True,
) -> RunReport:
    """Load files (SODA JSON/CSV, portal exports; gzip allowed) through the landing log.

    A CSV file is bulk-loaded as one batch by DuckDB's own reader (``bulk=True``); with
    ``bulk=False`` (and for JSON) it is landed in parts of ``rows_per_part`` records (each part
    the header plus whole records, byte for byte). See :mod:`resolve311.pipeline.imports`.
    """
    from resolve311.pipeline.imports import import_file

    missing = [str(p) for p in files if not Path(p).is_file()]
    if missing:
        raise ConfigError(f"no such file: {missing[0]}")

    def body(run: RunContext) -> None:
        for number, path in enumerate(files):

            def step(percent: float, label: str, number: int = number) -> None:
                if progress is not None:
                    progress(number * 100 + int(percent), len(files) * 100, label)

            entry = import_file(run, Path(path), bulk=bulk, rows_per_part=rows_per_part, progress=step)
            run.report.files.append(entry)
        if progress is not None:
            progress(len(files) * 100, len(files) * 100, "done")

    return execute(settings, "import", body, source_name=source, refresh=refresh)


# ------------------------------------------------------------------ rebuild
REBUILT_TABLES = ("requests", "request_history", "quarantine", "landing_checkpoint", "source_state")
#: What the metrics keep about the data (migrations 005, 007, 010): forgotten, so the next refresh is full.
FORGOTTEN_METRIC_STATE = (
    "metric_refresh_state",
    "metric_open_state",
    "metric_window_state",
    "load_touched_days",
)


def rebuild(settings: Settings, progress: Progress | None = None, *, refresh: bool = True) -> RunReport:
    """Empty the warehouse's data tables and reload them from the landing log alone."""

    def body(run: RunContext) -> None:
        with transaction(run.con):
            for table in REBUILT_TABLES + FORGOTTEN_METRIC_STATE:
                run.con.execute(f"DELETE FROM {table}")
        total = len(run.store.manifests())
        done = 0

        def loaded(manifest: Manifest, result: LoadResult) -> None:
            nonlocal done
            run.record(result)
            done += 1
            if progress:
                progress(done, total, "batches")

        drain(run.con, run.store, run.source_for, loaded)

    return execute(settings, "rebuild", body, drain_first=False, full_refresh=True, refresh=refresh)


# ------------------------------------------------------------------ import-sla
def import_sla(settings: Settings, path: Path) -> SlaImport:
    """Replace the service-level targets with those in ``path``, under the update lock."""
    from resolve311.metrics.sla import import_sla as load_targets

    if not path.is_file():
        raise ConfigError(f"no such file: {path}")
    settings = settings_of(settings, None)
    with update_lock(settings.lock_path, command="import-sla"):
        con = open_for_writing(settings)
        try:
            return load_targets(con, path)
        finally:
            con.close()
