"""CLI commands: metrics (refresh + publish the snapshot) and import-sla."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from resolve311.cli.options import CityOpt


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("metrics")(metrics)
    app.command("import-sla")(import_sla)


def metrics(
    full: Annotated[
        bool, typer.Option("--full", help="Recompute every day, not only the affected ones.")
    ] = False,
    engine: Annotated[
        str | None, typer.Option("--engine", help="Metric engine: duckdb (default) or spark.")
    ] = None,
    recent: Annotated[
        str | None, typer.Option("--recent", help="Window the dashboard shows first: 1d, 7d or 28d.")
    ] = None,
    city: CityOpt = None,
) -> None:
    """Recompute the metrics and publish the serving snapshot (holds the update lock; 75 if busy).

    Example: resolve311 metrics --full --engine spark
    """
    from resolve311.cli.options import writer_settings
    from resolve311.metrics.engines import check_engine
    from resolve311.publish.run import refresh_then_publish
    from resolve311.warehouse.lock import update_lock

    if engine is not None:
        check_engine(engine)
    settings = writer_settings(recent=recent).one_city(city)
    with (
        update_lock(settings.lock_path, command="metrics"),  # one writer: 75 while an update runs
        _steps_bar() as progress,
    ):  # every sink: the serving file, the lake, PostgreSQL
        report, outcomes = refresh_then_publish(settings, full=full, engine=engine, progress=progress)
    for outcome in outcomes:
        if outcome.status == "failed":
            typer.echo(f"publish to {outcome.sink} failed: {outcome.error}", err=True)
    if report.as_of is None:
        typer.echo(f"no requests yet; published an empty snapshot to {report.snapshot_path}")
        return
    typer.echo(
        f"{report.mode} refresh on {report.engine}: as of {report.as_of:%Y-%m-%d %H:%M} "
        f"(last complete day {report.as_of_date}), {report.days_recomputed} day(s) brought up to date, "
        f"{report.rows.get('scorecard', 0)} scorecard rows, {report.seconds:.1f}s -> {report.snapshot_path}"
    )


@contextmanager
def _steps_bar() -> Iterator[Callable[[int, int, str], None]]:
    """A Rich bar over the refresh's steps on stderr (off when stderr is not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("metrics", total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"metrics: {label}")

        yield update


def import_sla(
    file: Annotated[
        Path, typer.Argument(help="SLA file in the shape of NYC dataset cs9t-e3x8 (JSON or CSV).")
    ],
    city: CityOpt = None,
) -> None:
    """Load service-level targets per complaint type (replaces the loaded ones).

    A file without targets is refused (exit 1) and the loaded targets are kept.

    Example: resolve311 import-sla cs9t-e3x8.json
    """
    from resolve311.cli.options import cli_settings
    from resolve311.pipeline import import_sla as run_import

    result = run_import(cli_settings().one_city(city), file)
    typer.echo(
        f"{result.targets} target(s) loaded from {result.rows_read} row(s) ({result.skipped} without a target)"
    )
