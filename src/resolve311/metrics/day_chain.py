"""The affected days' chain of a refresh: the stored day tables brought up to date.

``metric_day_counts``, ``metric_panel_days`` and ``metric_panel_hist`` (``daily.py``,
``panel.py``): on DuckDB after a day of changes by the changed requests' delta
(``day_delta.py``), recomputing only the days it cannot tell; else (a full or first refresh,
rebuilt window rows, the Spark engine, day tables behind the window rows) the affected days
recomputed from their rows (``metric_day_input``, ``staging.create_day_input``). Run on a cursor
of its own in a worker thread while the windowed queries run (``refresh.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import ibis.expr.types as ir

from resolve311.metrics import daily, day_delta, definitions, panel, staging


@dataclass(frozen=True)
class DayInput:
    """The affected days' rows (``metric_day_input`` on the day connection) and where the rows in
    reach are kept (``staging.create_day_input``'s ``kept``)."""

    rows: ir.Table
    kept: tuple[str, int]


def usable_delta(
    con: duckdb.DuckDBPyConnection,
    source: str,
    engine_name: str,
    days: set[int] | None,
    changes: day_delta.Changes | None,
) -> day_delta.Changes | None:
    """The window rows' changes when the day tables can be brought up to date by them: an
    incremental refresh on DuckDB whose window rows were updated, not rebuilt."""
    if engine_name != "duckdb" or days is None:
        return None
    state = daily.read_state(con, source)
    return changes if day_delta.usable(changes, state.last_batch_seq if state else None) else None


def update(
    con: duckdb.DuckDBPyConnection,
    day_input: DayInput,
    source: str,
    days: set[int] | None,
    delta: day_delta.Changes | None,
) -> None:
    """The stored day tables: by ``delta`` when given, recomputing only the days it cannot tell;
    else ``days`` (every day when None) recomputed from their rows."""
    if delta is None:
        replace_days(con, day_input.rows, source, days)
        return

    def recompute(wanted: set[int]) -> None:
        staging.create_day_input(con, sorted(wanted), day_input.kept)
        replace_days(con, day_input.rows, source, wanted)

    day_delta.apply(con, source, delta, recompute)


def replace_days(
    con: duckdb.DuckDBPyConnection, day_requests: ir.Table, source: str, days: set[int] | None
) -> None:
    """The stored daily counts and panel days of ``days`` (every day when None) from their rows."""
    if days is None or days:
        wanted = None if days is None else sorted(days)
        counts = definitions.day_counts(day_requests, wanted)
        created, closed = (definitions.to_frame(f) for f in counts)
        daily.replace_day_counts(con, source, created, closed, days)
        panel.replace_panel_days(con, source, full=days is None)
