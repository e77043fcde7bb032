"""CLI commands: ``digest send``, ``digest preview`` and ``digest status`` (docs/digest.md)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer

from resolve311.cli.exit_codes import EXIT_FAILURE
from resolve311.cli.options import CityOpt
from resolve311.settings import Settings

EXIT_INTERRUPTED = 130  # as `update` (cli/data_cmds.py)

digest_app = typer.Typer(
    help=(
        "The morning digest: who slipped, by e-mail and webhook, once per subscriber and day.\n\n"
        "Example: resolve311 digest preview --subscriber hpd-ops"
    ),
    no_args_is_help=True,
)

SubscriberOpt = Annotated[str | None, typer.Option("--subscriber", help="Only this subscriber (by name).")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(digest_app, name="digest")


def _settings(city: str | None) -> Settings:
    """One city's settings, with logging that redacts the Socrata token, the SMTP password and webhook URLs."""
    from resolve311.cli.options import cli_settings
    from resolve311.logs import configure_logging

    settings = cli_settings()
    secrets = [
        settings.token(),
        settings.digest.password(),
        *(s.webhook_url for s in settings.digest.subscribers),
    ]
    configure_logging(fmt=settings.log_format, level=settings.log_level, secrets=[s for s in secrets if s])
    return settings.one_city(city)


@digest_app.command("send")
def send(subscriber: SubscriberOpt = None, city: CityOpt = None) -> None:
    """Send the digest of the snapshot's as-of date to every subscriber not yet served.

    Each e-mail address and webhook gets at most one message per as-of date (a delivery
    ledger in the warehouse); failed deliveries are retried by the next run. Exit code 0
    when every due delivery went out, 1 when some failed (the others were still sent),
    130 when SIGTERM stopped it between two targets.

    Example: resolve311 digest send
    """
    from rich.console import Console
    from rich.progress import Progress

    from resolve311.digest.send import Outcome, send_digests, targets

    settings = _settings(city)
    subs = [settings.digest.subscriber(subscriber)] if subscriber else settings.digest.subscribers
    total = sum(len(targets(s)) for s in subs)
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=total == 0 or not console.is_terminal) as progress:
        task = progress.add_task("sending digests", total=total)

        def advance(outcome: Outcome) -> None:
            progress.advance(task)

        with _stop_on_sigterm() as stopping:
            report = send_digests(settings, subscriber=subscriber, on_outcome=advance, stop=stopping.is_set)
    if report.as_of_date is None:
        typer.echo("nothing to send: no subscribers configured, or no data in the snapshot yet")
        return
    for o in report.outcomes:
        suffix = f" ({o.error})" if o.error else ""
        typer.echo(f"{report.as_of_date} {o.subscriber} -> {o.target}: {o.state}{suffix}")
    if report.interrupted:
        typer.echo("interrupted: the remaining targets go out with the next run", err=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    if report.failed:
        raise typer.Exit(EXIT_FAILURE)


@contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    """SIGTERM (how `up` stops its children) finishes the target in hand, then stops."""
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    try:
        yield stopping
    finally:
        signal.signal(signal.SIGTERM, previous)


@digest_app.command("preview")
def preview(
    subscriber: Annotated[str, typer.Option("--subscriber", help="The subscriber whose digest to show.")],
    output: Annotated[
        Literal["text", "html", "eml", "webhook"],
        typer.Option(
            "--format",
            help="text (the plain part), html (charts inline), eml (the MIME message), webhook (JSON).",
        ),
    ] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of printing.")] = None,
    city: CityOpt = None,
) -> None:
    """Show what a subscriber would be sent for the snapshot's as-of date; sends nothing.

    Example: resolve311 digest preview --subscriber hpd-ops --format html --out digest.html
    """
    from resolve311.digest.preview import render_preview

    settings = _settings(city)
    text, note = render_preview(settings, subscriber, output)
    if note:
        typer.echo(note, err=True)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(str(out))


@digest_app.command("status")
def status(
    limit: Annotated[int, typer.Option(help="Rows to show, newest first.")] = 30, city: CityOpt = None
) -> None:
    """Print the delivery ledger: per as-of date, subscriber and target, its state and last error.

    Example: resolve311 digest status --limit 10
    """
    from resolve311.digest.preview import ledger_lines

    for line in ledger_lines(_settings(city), limit):
        typer.echo(line)
