"""CLI commands: serve (the dashboard and JSON API) and report (the static daily review)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from resolve311.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command()(serve)
    app.command()(report)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default: settings.host, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings.port, 8050).")] = None,
) -> None:
    """Serve the dashboard and the JSON API (/api) from the serving snapshot.

    The server reopens the snapshot whenever a new one is published; with no
    snapshot yet, pages show a "no data yet" state.

    Example: resolve311 serve --port 8050
    """
    from resolve311.logs import configure_logging
    from resolve311.settings import load_settings
    from resolve311.web.app import create_app

    settings = load_settings(host=host, port=port)
    configure_logging(fmt=settings.log_format, level=settings.log_level, secrets=[settings.token() or ""])
    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, debug=False)


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
    from resolve311.settings import load_settings
    from resolve311.web.report import write_report

    day = None
    if on is not None:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise ConfigError(f"--date must be YYYY-MM-DD, not {on!r}") from None
    settings = load_settings()
    written = write_report(settings.snapshot_path, out, day)
    typer.echo(str(written))
