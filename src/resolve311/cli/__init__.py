"""The `resolve311` command line: a thin shell over the library.

Each command group lives in its own module and registers itself on the one
Typer app; library errors become one-line messages and exit codes here only.
"""

from __future__ import annotations

import functools
import sys

import typer
from rich.console import Console

from resolve311.cli.exit_codes import EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE
from resolve311.errors import ConfigError, Resolve311Error, SourceUnavailable

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE", "app", "main"]

app = typer.Typer(
    name="resolve311",
    help="Daily review of how well each city agency resolves its 311 service requests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _root() -> None:
    """Daily review of how well each city agency resolves its 311 service requests."""


@functools.cache
def _register_commands() -> None:
    from resolve311.cli import (
        data_cmds,
        digest_cmds,
        metrics_cmds,
        publish_cmds,
        run_cmds,
        sim_cmds,
        web_cmds,
    )

    for module in (sim_cmds, data_cmds, metrics_cmds, publish_cmds, web_cmds, run_cmds, digest_cmds):
        module.register(app)


def exit_code_for(exc: Resolve311Error) -> int:
    if isinstance(exc, SourceUnavailable):
        return EXIT_UNAVAILABLE
    if isinstance(exc, ConfigError):
        return EXIT_USAGE
    return EXIT_FAILURE  # LockBusy included: another update is running


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    _register_commands()
    try:
        app(args=argv, standalone_mode=True)
    except Resolve311Error as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(exit_code_for(exc))


@app.command()
def version() -> None:
    """Print the version.

    Example: resolve311 version
    """
    from resolve311 import __version__

    typer.echo(__version__)
