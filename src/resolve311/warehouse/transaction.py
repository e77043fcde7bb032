"""One explicit DuckDB transaction, DuckDB options set for a while then restored, and a Python object
registered as a relation for a while."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import duckdb


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """``BEGIN`` … ``COMMIT``; ``ROLLBACK`` on any exception (interrupts included), then re-raise.

    A failed ``COMMIT`` (a full disk) has already ended the transaction: the rollback's own error
    is dropped so the caller sees the real cause.
    """
    con.execute("BEGIN")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **objects: Any) -> Iterator[None]:
    """Each of ``objects`` (a pandas frame or an Arrow table) readable by its name on ``con`` for the
    block, unregistered after it however it ends."""
    for name, value in objects.items():
        con.register(name, value)
    try:
        yield
    finally:
        for name in objects:
            with suppress(duckdb.Error):  # a connection that failed mid-block must not hide why
                con.unregister(name)


@contextmanager
def duckdb_options(con: duckdb.DuckDBPyConnection, **values: str | bool) -> Iterator[None]:
    """Set DuckDB options (``memory_limit="3GB"``…) for the block, then restore each one.

    A setting that was at its default is ``RESET`` (exact); one a caller had changed is set back to
    the text DuckDB reports for it (``memory_limit`` reads back rounded, e.g. '2.7 GiB' for '3GB').
    """
    before = {name: _current(con, name) for name in values}
    for name, value in values.items():
        con.execute(f"SET {name} = {_literal(value)}")
    changed = {name: value for name, value in before.items() if _current(con, name) != value}
    try:
        yield
    finally:
        for name, value in changed.items():  # one already at the value (a nested block) stays exact
            _restore(con, name, value)


def _restore(con: duckdb.DuckDBPyConnection, name: str, value: str) -> None:
    """Best effort: a connection that failed mid-block must not hide the block's own error."""
    with suppress(duckdb.Error):
        con.execute(f"RESET {name}")
        if _current(con, name) != value:
            con.execute(f"SET {name} = {_literal(value)}")


def _current(con: duckdb.DuckDBPyConnection, name: str) -> str:
    row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    return "" if row is None or row[0] is None else str(row[0])


def _literal(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + value.replace("'", "''") + "'"
