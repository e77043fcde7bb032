"""CLI command: publish (copy the serving snapshot to the lake and PostgreSQL again)."""

from __future__ import annotations

from typing import Annotated

import typer

from resolve311.cli.options import CityOpt


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("publish")(publish)


def publish(
    sink: Annotated[
        str | None, typer.Option("--sink", help="Only this sink: serving, lake or postgres.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Publish even to sinks that already hold this snapshot.")
    ] = False,
    city: CityOpt = None,
) -> None:
    """Copy the current serving snapshot to every configured sink that does not hold it yet.

    Runs on its own what every update does at its end; a sink that failed is retried.
    Exit 1 when a sink fails.

    Example: RESOLVE311_LAKE_URL=/srv/lake resolve311 publish --sink lake
    """
    from resolve311.errors import ConfigError, TerminalError
    from resolve311.publish import publish_release
    from resolve311.publish.sinks import configured_sinks
    from resolve311.settings import load_settings
    from resolve311.warehouse.lock import update_lock

    settings = load_settings().one_city(city)
    names = [s.name for s in configured_sinks(settings)]
    if sink is not None and sink not in names:
        raise ConfigError(f"sink {sink!r} is not configured; configured: {', '.join(names)}")
    with update_lock(settings.lock_path):
        outcomes = publish_release(settings, only=sink, force=force)
    if not outcomes:
        raise ConfigError("no serving snapshot yet: run `resolve311 metrics` or `resolve311 update` first")
    for o in outcomes:
        typer.echo(f"{o.sink}: {o.status}" + (f" ({o.detail or o.error})" if o.detail or o.error else ""))
    if any(o.status == "failed" for o in outcomes):
        raise TerminalError(
            "publishing failed for " + ", ".join(o.sink for o in outcomes if o.status == "failed")
        )
