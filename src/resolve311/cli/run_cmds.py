"""CLI commands for running every day: up, demo, schedule, config."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from resolve311.cli.options import cli_settings
from resolve311.settings import Settings, load_settings, setting_origins

HomeOpt = Annotated[Path | None, typer.Option("--home", help="Data directory (RESOLVE311_HOME).")]
LogFormatOpt = Annotated[
    str | None, typer.Option("--log-format", help="Log format: text or json (JSON lines).")
]


def up(
    home: HomeOpt = None,
    schedule: Annotated[str | None, typer.Option(help="Cron expression (city time) or '@every 30s'.")] = None,
    full_history: Annotated[
        bool, typer.Option("--full-history", help="Backfill everything since 2010.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Dashboard bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Dashboard port.")] = None,
    log_format: LogFormatOpt = None,
) -> None:
    """Backfill if empty, then update on schedule and serve the dashboard, in one process.

    Example: resolve311 up --schedule "0 6 * * *" --port 8050
    """
    from resolve311.supervisor import Supervisor

    history = None
    if full_history:
        history = (datetime.now(UTC).date() - date(2010, 1, 1)).days
    settings = cli_settings(
        home=home, schedule=schedule, host=host, port=port, log_format=log_format, history_days=history
    )
    raise typer.Exit(Supervisor(settings).run())


def schedule_cmd(
    home: HomeOpt = None,
    schedule: Annotated[str | None, typer.Option(help="Cron expression (city time) or '@every 30s'.")] = None,
    log_format: LogFormatOpt = None,
) -> None:
    """Run only the scheduler (updates with catch-up and retry), no dashboard.

    Example: resolve311 schedule --schedule "30 6 * * *"
    """
    from resolve311.supervisor import Supervisor

    settings = cli_settings(home=home, schedule=schedule, log_format=log_format)
    raise typer.Exit(Supervisor(settings, serve=False).run())


def demo(
    home: HomeOpt = None,
    scale: Annotated[float, typer.Option(help="Share of NYC's real volume to simulate.")] = 0.05,
    history_days: Annotated[int, typer.Option(help="Days of simulated history.")] = 400,
    advance_seconds: Annotated[float, typer.Option(help="Seconds per simulated day.")] = 60.0,
    port: Annotated[int | None, typer.Option(help="Dashboard port.")] = None,
    log_format: LogFormatOpt = None,
    cities: Annotated[
        str, typer.Option("--cities", help="Comma-separated cities, one simulator each (nyc,chicago,sf).")
    ] = "nyc",
) -> None:
    """The whole product offline: simulator -> pipeline -> dashboard on http://127.0.0.1:8050.

    Example: resolve311 demo --advance-seconds 30

    Example: resolve311 demo --cities nyc,chicago,sf
    """
    from resolve311.demo import DemoOptions, demo_cities, run_demo

    settings = cli_settings(home=home, port=port, log_format=log_format)
    options = DemoOptions(
        cities=demo_cities(cities),
        today=datetime.now(UTC).date(),
        scale=scale,
        history_days=history_days,
        advance_seconds=advance_seconds,
    )
    raise typer.Exit(run_demo(settings, options))


def config(
    home: HomeOpt = None,
    output: Annotated[Literal["text", "json"], typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Print the effective settings and where each came from (secrets redacted).

    Example: resolve311 config --format json
    """
    settings = load_settings(home=home)
    origins = setting_origins(home=home)
    values = settings.redacted()
    _show_source_defaults(settings, values, origins)
    if output == "json":
        typer.echo(json.dumps({k: {"value": values[k], "origin": origins[k]} for k in values}, indent=2))
        return
    width = max(len(k) for k in values)
    for key, value in values.items():
        typer.echo(f"{key:<{width}}  {json.dumps(value)}  [{origins[key]}]")


def _show_source_defaults(settings: Settings, values: dict[str, Any], origins: dict[str, str]) -> None:
    """Unset settings that the source decides show the source's value, not null."""
    from_source = {"socrata_url": settings.portal_url, "timezone": settings.city_timezone}
    for key, effective in from_source.items():
        if values[key] is None:
            values[key] = effective()
            origins[key] = f"source {settings.source} (catalog)"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(up)
    app.command("schedule")(schedule_cmd)
    app.command()(demo)
    app.command()(config)
