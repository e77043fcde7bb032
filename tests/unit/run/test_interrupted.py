"""A Ctrl-C is recognised whether it arrives as a KeyboardInterrupt or as DuckDB's end of a query.

DuckDB ends a query a Ctrl-C reached with ``RuntimeError("Query interrupted")`` (measured with
duckdb 2.0.1). tests/integration/metrics/test_cli.py sends a real SIGINT to ``resolve311 metrics``:
it lands in Python or inside a query, and either way must end the same.
"""

from __future__ import annotations

import duckdb
import pytest
import typer

from resolve311.cli import _interrupt_reported, _Interrupted
from resolve311.errors import interrupted, interrupts_kept


def test_interrupts_are_found_along_the_chain() -> None:
    assert interrupted(KeyboardInterrupt())
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise ValueError("cleanup failed") from exc
    except ValueError as wrapped:
        assert interrupted(wrapped)
    assert interrupted(RuntimeError("Query interrupted"))  # DuckDB's own, for a signal during a query
    registered_scan = duckdb.InvalidInputException(
        "Invalid Input Error: exporting a stream from the object registered as '_r311_batch' failed: "
        "KeyboardInterrupt: "
    )  # DuckDB's own, for a signal while it reads a registered Arrow table (seen in a backfill)
    assert interrupted(registered_scan)
    assert not interrupted(RuntimeError("Query interrupted by the user's typo"))
    assert not interrupted(duckdb.IOException("could not write"))
    assert not interrupted(RuntimeError("something else"))


def test_inside_interrupts_kept_duckdbs_interrupt_comes_out_as_a_keyboard_interrupt() -> None:
    with pytest.raises(KeyboardInterrupt) as stopped, interrupts_kept():
        raise RuntimeError("Query interrupted")
    assert isinstance(stopped.value.__cause__, RuntimeError)
    with pytest.raises(ValueError), interrupts_kept():
        raise ValueError("a real failure")


def _handled_interrupt() -> None:
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise typer.Exit(130) from None  # what a command that reports its own interrupt does


def test_an_interrupt_a_command_handled_stays_its_own_outcome() -> None:
    with pytest.raises(typer.Exit) as handled:
        _handled_interrupt()
    assert not interrupted(handled.value)  # `from None`: the KeyboardInterrupt is not its cause
    with pytest.raises(typer.Exit):
        _interrupt_reported(_handled_interrupt)()


def test_an_unhandled_interrupt_is_reported_by_the_cli() -> None:
    def refresh() -> None:
        raise RuntimeError("Query interrupted")

    with pytest.raises(_Interrupted):
        _interrupt_reported(refresh)()
