"""The `resolve311` command line: a thin shell over the library.

Each command group lives in its own module and registers itself on the one
Typer app; library errors become one-line messages and exit codes here only.
:func:`main` is the boundary: whatever escapes a command becomes ONE redacted
``error:`` line and a documented exit code (cli/exit_codes.py); the traceback goes
to the log at DEBUG, and to stderr only with ``resolve311 --debug ...``.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.exceptions import TyperException

from resolve311.cli.exit_codes import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STORAGE,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)
from resolve311.errors import (
    ConfigError,
    LockBusy,
    Resolve311Error,
    SourceUnavailable,
    StorageError,
    first_line,
    interrupted,
    known_error,
    root_cause,
)
from resolve311.logs import redact, register_secret

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE", "app", "main"]

log = logging.getLogger("resolve311.cli")
_debug = {"on": False}

app = typer.Typer(
    name="resolve311",
    help="Daily review of how well each city agency resolves its 311 service requests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="On an unexpected error, print the traceback too.")
    ] = False,
) -> None:
    """Daily review of how well each city agency resolves its 311 service requests."""
    _debug["on"] = debug


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
    _report_interrupts(app)


class _Interrupted(Exception):
    """Ctrl-C (or SIGTERM, where a command turns it into one) ended a command that did not report it."""


def _report_interrupts(group: typer.Typer) -> None:
    """Every command of ``group`` (and its sub-groups) raises :class:`_Interrupted` for an unhandled
    KeyboardInterrupt: Typer would turn it into a silent exit 130; :func:`main` prints its line."""
    for command in group.registered_commands:
        if command.callback is not None:
            command.callback = _interrupt_reported(command.callback)
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _report_interrupts(sub.typer_instance)


def _interrupt_reported(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)  # Typer reads the parameters through __wrapped__
    def command(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (KeyboardInterrupt, Exception) as exc:  # a command's own typer.Exit(...) from None passes
            if interrupted(exc):  # also DuckDB's own error for a query a Ctrl-C reached
                raise _Interrupted from exc
            raise

    return command


#: Error class name -> exit code; subclasses inherit their parent's code (DiskFull -> StorageError).
_CODES: dict[str, int] = {
    SourceUnavailable.__name__: EXIT_UNAVAILABLE,
    LockBusy.__name__: EXIT_UNAVAILABLE,
    ConfigError.__name__: EXIT_USAGE,
    StorageError.__name__: EXIT_STORAGE,
    "DiskFull": EXIT_STORAGE,
}


def exit_code_for(exc: BaseException | type[BaseException] | str | None) -> int:
    """The documented exit code of an error (an instance, its class, or its class name)."""
    if isinstance(exc, BaseException):
        exc = type(exc)
    names = [c.__name__ for c in exc.__mro__] if isinstance(exc, type) else [exc] if exc else []
    return next((_CODES[n] for n in names if n in _CODES), EXIT_FAILURE)


def _error_line(text: str) -> None:
    """The one line a failure prints on stderr (secrets redacted)."""
    err_console.print(f"error: {redact(' '.join(text.split()))}", markup=False, highlight=False)


def _unexpected(exc: BaseException) -> int:
    """One line for an error no command expected; the traceback only at DEBUG or with --debug."""
    known = known_error(exc)
    if known is not None:
        _error_line(str(known))
        return exit_code_for(known)
    cause = root_cause(exc)
    _error_line(f"{type(cause).__name__}: {first_line(cause)}")
    text = redact("".join(traceback.format_exception(exc)))
    log.debug("unexpected error:\n%s", text)
    if _debug["on"]:
        print(text, file=sys.stderr, end="")
    else:
        print("(rerun with `resolve311 --debug ...` to see the traceback)", file=sys.stderr)
    return EXIT_FAILURE


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every outcome is an exit code, never a bare traceback."""
    register_secret(os.environ.get("SOCRATA_APP_TOKEN"))  # redacted even before settings load
    _register_commands()
    try:
        code = app(args=argv, standalone_mode=False)
    except TyperException as exc:  # bad arguments: the parser's own presentation and exit code (2)
        from typer import rich_utils

        rich_utils.rich_format_error(exc)  # type: ignore[arg-type]  # help already shown when no args
        code = getattr(exc, "exit_code", EXIT_USAGE)
    except typer.Abort as exc:
        cause = exc.__cause__ or exc.__context__
        if cause is None or isinstance(cause, KeyboardInterrupt):
            _error_line("interrupted")
            code = EXIT_INTERRUPTED
        else:
            _error_line(f"unexpected end of input ({type(cause).__name__}: {first_line(cause)})")
            code = EXIT_FAILURE
    except Resolve311Error as exc:
        _error_line(str(exc))
        code = exit_code_for(exc)
    except (KeyboardInterrupt, _Interrupted):
        _error_line("interrupted")
        code = EXIT_INTERRUPTED
    except Exception as exc:
        code = _unexpected(exc)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


@app.command()
def version() -> None:
    """Print the version.

    Example: resolve311 version
    """
    from resolve311 import __version__

    typer.echo(__version__)
