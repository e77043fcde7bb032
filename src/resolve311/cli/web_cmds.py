"""CLI commands: serve (the dashboard and JSON API) and report (the static daily review)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from resolve311.cli.options import cli_settings, parse_date


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(serve)
    app.command()(report)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default: settings.host, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings.port, 8050).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: settings.web_workers, 2).")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="Threads per worker (default: settings.web_threads, 8).")
    ] = None,
) -> None:
    """Serve the dashboard and the JSON API (/api) from the serving snapshot.

    Runs gunicorn with several worker processes; each reopens the snapshot
    whenever a new one is published. With no snapshot yet, pages show a
    "no data yet" state. SIGTERM stops it gracefully.

    Example: resolve311 serve --port 8050 --workers 2
    """
    from resolve311.web.server import run_server

    settings = cli_settings(host=host, port=port, web_workers=workers, web_threads=threads)
    run_server(settings)


def report(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    on: Annotated[
        str | None,
        typer.Option("--date", help="The review date (YYYY-MM-DD); must be the snapshot's as-of date."),
    ] = None,
) -> None:
    """Write the daily review as one standalone HTML file (plotly.js embedded, opens offline).

    Example: resolve311 report --out review.html
    """
    from resolve311.web.report import write_report

    settings = cli_settings()
    written = write_report(settings.snapshot_path, out, parse_date(on, "--date"))
    typer.echo(str(written))
