"""A Ctrl-C is recognised whether it arrives as a KeyboardInterrupt or as DuckDB's end of a query.

DuckDB ends a query a Ctrl-C reached with ``RuntimeError("Query interrupted")`` (measured with
duckdb 2.0.1). tests/integration/metrics/test_cli.py sends a real SIGINT to ``resolve311 metrics``:
it lands in Python or inside a query, and either way must end the same.
"""

from __future__ import annotations

import duckdb

from resolve311.errors import interrupted


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
    assert not interrupted(RuntimeError("Query interrupted by the user's typo"))
    assert not interrupted(duckdb.IOException("could not write"))
    assert not interrupted(RuntimeError("something else"))
