"""CLI commands that move data: update, backfill, import, status, export, rebuild."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from resolve311.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNAVAILABLE
from resolve311.cli.options import CityOpt, cli_settings, parse_date, writer_settings
from resolve311.logs import redact

if TYPE_CHECKING:
    from resolve311.pipeline.run import RunReport

SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Source name from the catalog (default: nyc).")
]
UrlOpt = Annotated[
    str | None,
    typer.Option("--socrata-url", help="Base URL of the Socrata portal (env RESOLVE311_SOCRATA_URL)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
NoMetricsOpt = Annotated[
    bool,
    typer.Option("--skip-metrics", help="Do not refresh metrics or republish the status after the run."),
]


class ExportTable(StrEnum):
    requests = "requests"
    request_versions = "request_versions"
    quarantine = "quarantine"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C: the batch in flight is rolled back, the ledger says so."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    except KeyboardInterrupt:
        print("error: interrupted; the next run continues from the last committed batch", file=sys.stderr)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _finish(report: RunReport, as_json: bool) -> None:
    """Print the run summary and exit with the run's code."""
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    else:
        c = report.counts
        typer.echo(
            f"{report.kind} {report.status}: {c.rows_new} new, {c.rows_changed} changed, "
            f"{c.rows_unchanged} unchanged, {c.rows_quarantined} quarantined in {report.batches} batch(es); "
            f"watermark {_text(report.watermark_before)} -> {_text(report.watermark_after)}"
        )
        for entry in report.files:
            typer.echo(
                f"  {entry['file']}: {entry['rows']} rows, {entry['loaded']} loaded, "
                f"{entry['duplicates']} duplicate, {entry['quarantined']} quarantined"
            )
    if report.error:
        print(f"error: {redact(report.error)}", file=sys.stderr)
    raise typer.Exit(run_exit_code(report))


def _finish_each(reports: list[RunReport], as_json: bool) -> None:
    """One run: as :func:`_finish`. Several cities: one summary line per city (``--json``: one object
    ``{"runs": [...]}``), exit with the first city's non-zero code, else 0."""
    if len(reports) == 1:
        _finish(reports[0], as_json)
    if as_json:
        typer.echo(json.dumps({"runs": [r.to_dict() for r in reports]}))
    for report in reports:
        c = report.counts
        if not as_json:
            typer.echo(
                f"{report.source}: {report.kind} {report.status}: {c.rows_new} new, {c.rows_changed} changed, "
                f"{c.rows_quarantined} quarantined in {report.batches} batch(es)"
            )
        if report.error:
            print(f"error: {report.source}: {redact(report.error)}", file=sys.stderr)
    codes = [run_exit_code(r) for r in reports]
    raise typer.Exit(next((code for code in codes if code != EXIT_OK), EXIT_OK))


def run_exit_code(report: RunReport) -> int:
    """success 0, source_unavailable 75, interrupted 130, else the code of the failure's error type."""
    from resolve311.cli import exit_code_for

    fixed = {"success": EXIT_OK, "source_unavailable": EXIT_UNAVAILABLE, "interrupted": EXIT_INTERRUPTED}
    return fixed.get(report.status, exit_code_for(report.error_type))


def _text(value: object) -> str:
    return "none" if value is None else str(value)


@contextmanager
def _progress_bar(description: str) -> Iterator[Any]:
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{description} {label}")

        yield update


def update(
    source: SourceOpt = None,
    as_json: JsonOpt = False,
    socrata_url: UrlOpt = None,
    allow_full_replace: Annotated[
        bool, typer.Option("--allow-full-replace", help="Re-download even if a full replace is detected.")
    ] = False,
    skip_metrics: NoMetricsOpt = False,
    city: CityOpt = None,
) -> None:
    """Pull what changed since the last run into the warehouse (exit 0 ok, 75 source unavailable, 1 failed).

    In a several-city home every city is updated in turn unless --city names one.

    Example: resolve311 update --json
    """
    from resolve311.pipeline import run_update

    cities = writer_settings(source=source, socrata_url=socrata_url).each_city(city)
    reports = []
    with _interruptible():
        for one in cities:
            reports.append(run_update(one, allow_full_replace=allow_full_replace, refresh=not skip_metrics))
    _finish_each(reports, as_json)


def backfill(
    since: Annotated[str, typer.Option("--since", help="First created date to pull (YYYY-MM-DD).")],
    until: Annotated[
        str | None, typer.Option("--until", help="Created date to stop before (exclusive).")
    ] = None,
    source: SourceOpt = None,
    as_json: JsonOpt = False,
    socrata_url: UrlOpt = None,
    skip_metrics: NoMetricsOpt = False,
    city: CityOpt = None,
) -> None:
    """Pull every request created in a date range through the landing log; rerun to resume.

    Example: resolve311 backfill --since 2024-01-01 --until 2024-07-01
    """
    from resolve311.pipeline import run_backfill

    start, end = parse_date(since, "--since"), parse_date(until, "--until")
    assert start is not None
    settings = writer_settings(source=source, socrata_url=socrata_url).one_city(city)
    with _interruptible(), _progress_bar("backfill") as progress:
        report = run_backfill(settings, start, end, progress, refresh=not skip_metrics)
    _finish(report, as_json)


def import_files(
    files: Annotated[list[Path], typer.Argument(help="CSV or JSON files (SODA or portal export; .gz too).")],
    source: SourceOpt = None,
    as_json: JsonOpt = False,
    skip_metrics: NoMetricsOpt = False,
    city: CityOpt = None,
) -> None:
    """Load files through the landing log into the warehouse.

    Example: resolve311 import export-2025-03-24.csv soda-page.json.gz
    """
    from resolve311.pipeline import run_import

    settings = writer_settings(source=source).one_city(city)
    with _interruptible(), _progress_bar("import") as progress:
        report = run_import(settings, files, progress, refresh=not skip_metrics)
    _finish(report, as_json)


def status_cmd(as_json: JsonOpt = False, city: CityOpt = None) -> None:
    """Show data as of, watermarks, the last runs, row and quarantine counts.

    In a several-city home every city is shown unless --city names one
    (``--json``: ``{"cities": {name: status}}``).

    Example: resolve311 status --json
    """
    from resolve311.pipeline import status

    settings = cli_settings()
    summaries = {one.source: status(one) for one in settings.each_city(city)}
    if as_json:
        several = settings.several_cities and city is None
        shown = {"cities": summaries} if several else next(iter(summaries.values()))
        typer.echo(json.dumps(shown, default=str))
        return
    for summary in summaries.values():
        _print_status(summary)


def _print_status(summary: dict[str, Any]) -> None:
    if summary.get("busy"):
        typer.echo(f"note: {summary['busy']} (published {summary.get('snapshot_generated_at')} UTC)")
    if summary.get("empty"):
        typer.echo(f"no data yet in {summary['warehouse']}; run `resolve311 update`")
        return
    typer.echo(f"source {summary['source']}: newest request {summary['data_as_of']}")
    for ds in summary["datasets"]:
        down = f", unavailable since {ds['unavailable_since']}" if ds["unavailable_since"] else ""
        typer.echo(
            f"  {ds['dataset']}: watermark {_text(ds['watermark'])}, "
            f"last successful update {ds['last_success_at'] or 'never'}{down}"
        )
    typer.echo("rows: " + ", ".join(f"{k} {v}" for k, v in summary["counts"].items()))
    for run in summary["runs"]:
        typer.echo(
            f"  {run['started_at']} {run['kind']:<8} {run['status']:<18} +{run['rows_new']} "
            f"~{run['rows_changed']} ={run['rows_unchanged']} !{run['rows_quarantined']}"
            + (f"  {run['error']}" if run["error"] else "")
        )


def export_cmd(
    table: Annotated[ExportTable, typer.Option("--table", help="Which table.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet.")],
    out: Annotated[Path, typer.Option("--out", help="Output file.")],
    wait: Annotated[
        float,
        typer.Option("--wait", help="Seconds to wait for a running update to finish (then exit 75)."),
    ] = 3600.0,
    city: CityOpt = None,
) -> None:
    """Write a table's last committed contents, source columns under their SODA names, then ours.

    During an update, waits for it to finish (DuckDB admits no reader beside a writer).

    Example: resolve311 export --table requests --format parquet --out requests.parquet
    """
    from resolve311.pipeline import export

    rows = export(cli_settings().one_city(city), table.value, fmt.value, out, wait_s=wait)
    typer.echo(f"wrote {rows} rows to {out}")


def rebuild_cmd(as_json: JsonOpt = False, skip_metrics: NoMetricsOpt = False, city: CityOpt = None) -> None:
    """Rebuild the warehouse's data tables from the landing log alone.

    Example: resolve311 rebuild
    """
    from resolve311.pipeline import rebuild

    settings = writer_settings().one_city(city)
    with _interruptible(), _progress_bar("rebuild") as progress:
        report = rebuild(settings, progress, refresh=not skip_metrics)
    _finish(report, as_json)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("update")(update)
    app.command("backfill")(backfill)
    app.command("import")(import_files)
    app.command("status")(status_cmd)
    app.command("export")(export_cmd)
    app.command("rebuild")(rebuild_cmd)
