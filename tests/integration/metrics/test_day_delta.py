"""The affected days' tables brought up to date by the changed requests' delta equal a full rebuild."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import ibis

from resolve311.metrics import daily, day_chain, day_delta, staging, window_rows
from resolve311.metrics.windows import dnum

DAY0 = datetime(2025, 3, 3, 9)
SINCE = dnum(DAY0.date())
DUPLICATE = "starts_with(lower(status), 'closed - duplicate')"
TABLES = ("metric_day_counts", "metric_panel_days", "metric_panel_hist")


def stored(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def rows(con: duckdb.DuckDBPyConnection) -> ibis.Table:
    return ibis.duckdb.from_connection(con).table("metric_day_input")


def rebuild(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every day's tables from every row (a full refresh's day chain)."""
    staging.create_day_input(con, None)
    day_chain.replace_days(con, rows(con), "nyc", None)
    return stored(con)


def delta(con: duckdb.DuckDBPyConnection, changes: day_delta.Changes | None) -> set[int]:
    """The day chain of an incremental refresh: the delta, recomputing what it cannot tell."""
    assert changes is not None

    def recompute(days: set[int]) -> None:
        staging.create_day_input(con, sorted(days), (window_rows.INPUT, SINCE))
        day_chain.replace_days(con, rows(con), "nyc", days)

    staging.create_day_input(con, [])
    return day_delta.apply(con, "nyc", changes, recompute)


def test_a_day_of_changes_applied_as_a_delta_gives_the_tables_of_a_full_rebuild(warehouse) -> None:
    w, con = warehouse, warehouse.con
    daily.ensure_derived_tables(con)
    day = timedelta(days=1)
    old = DAY0 - 40 * day  # before the reach
    w.add("moves", DAY0 + day, DAY0 + 2 * day, agency="HPD")
    w.add("dups", DAY0 + day, agency="DSNY")
    w.add("reopens", DAY0 + 2 * day, DAY0 + 2 * day + timedelta(minutes=5))  # an admin close
    w.add("was-dup", DAY0 + 2 * day, status="Closed - Duplicate")  # left out until it is not
    w.add("old-open", old, agency="DOT")  # created long before the reach, closed today
    w.add("old-fixed", old, old + 3 * day, agency="DOT")  # out of reach: its close corrected
    w.add("old-twice", old - 9 * day, old, agency="DOT")  # out of reach: changed in two batches
    w.add("comes-back", old - 20 * day, old - 19 * day, agency="DOT")  # out of reach: changed, then as it was
    w.add("same", DAY0 + 3 * day, DAY0 + 4 * day, dirty=["x"])  # rewritten, nothing counted changes
    w.add("kept", DAY0 + 3 * day, DAY0 + 5 * day)
    w.commit()
    staging.create_input_views(con, "nyc", duplicate=DUPLICATE)
    assert window_rows.update(con, "nyc", SINCE, full=False).rebuilt  # first use
    rebuild(con)

    today = DAY0 + 6 * day
    w.add("moves", DAY0 + day, DAY0 + 3 * day, agency="DEP", batch_seq=2)
    w.add("dups", DAY0 + day, today, status="Closed - Duplicate", batch_seq=2)
    w.add("reopens", DAY0 + 2 * day, status="Open", batch_seq=2)
    w.add("was-dup", DAY0 + 2 * day, today, batch_seq=2)
    w.add("old-open", old, today, agency="DOT", batch_seq=2)
    w.add("old-fixed", old, old + 5 * day, agency="DOT", batch_seq=2)
    w.add("old-twice", old - 9 * day, old + day, agency="DOT", batch_seq=2)
    w.add("same", DAY0 + 3 * day, DAY0 + 4 * day, dirty=["x"], lat=40.7, lon=-73.9, batch_seq=2)
    w.add("new", today, today + timedelta(hours=2), agency="HPD", batch_seq=2)
    w.add("comes-back", old - 20 * day, old - 19 * day, agency="DEP", batch_seq=2)
    w.commit()
    w.add("old-twice", old - 9 * day, old + 2 * day, agency="DOT", batch_seq=3)
    w.add(
        "comes-back", old - 20 * day, old - 19 * day, agency="DOT", batch_seq=3
    )  # its only old version: current again
    w.commit()
    changes = window_rows.update(con, "nyc", SINCE, full=False).changes
    recomputed = delta(con, changes)
    got = stored(con)

    # no old row for these: out of reach ("old-*" closed before it), or left out ("was-dup")
    d = dnum
    want_days = {d(old.date()), d((old + 3 * day).date()), d((old + 5 * day).date())}  # old-fixed
    want_days |= {d((old - 9 * day).date()), d((old + day).date()), d((old + 2 * day).date())}
    want_days |= {d((DAY0 + 2 * day).date()), d(today.date())}  # was-dup
    want_days |= {d((old - 20 * day).date()), d((old - 19 * day).date())}  # comes-back
    assert recomputed == want_days
    want = rebuild(con)
    for table in TABLES:
        assert got[table] == want[table], table
    assert any(r[1] == "DEP" for r in want["metric_panel_days"])
    assert not any(r[1] == "HPD" and r[2] == d((DAY0 + 2 * day).date()) for r in want["metric_panel_days"])


def test_changes_that_cancel_out_leave_no_row_and_touch_no_other(warehouse) -> None:
    """A request moved to another agency and back within a day: zero counts are not stored."""
    w, con = warehouse, warehouse.con
    daily.ensure_derived_tables(con)
    w.add("a", DAY0 + timedelta(days=1), DAY0 + timedelta(days=2), agency="HPD")
    w.commit()
    staging.create_input_views(con, "nyc")
    window_rows.update(con, "nyc", SINCE, full=False)
    before = rebuild(con)
    w.add("a", DAY0 + timedelta(days=1), DAY0 + timedelta(days=2), agency="DEP", batch_seq=2)
    w.commit()
    assert delta(con, window_rows.update(con, "nyc", SINCE, full=False).changes) == set()
    moved = stored(con)
    assert moved == rebuild(con)
    assert not any(r[1] == "HPD" for r in moved["metric_day_counts"])  # its rows went to 0: deleted
    w.add("a", DAY0 + timedelta(days=1), DAY0 + timedelta(days=2), agency="HPD", batch_seq=3)
    w.commit()
    assert delta(con, window_rows.update(con, "nyc", SINCE, full=False).changes) == set()
    assert stored(con) == before


def test_the_delta_is_used_only_when_the_day_tables_stand_where_the_window_rows_stood() -> None:
    """A refresh that updated the window rows but failed before its day tables: recompute."""
    import pyarrow as pa

    changes = day_delta.Changes(5, pa.table({"a": [1]}), pa.table({"a": [1]}))
    assert day_delta.usable(changes, 5)
    assert day_delta.usable(changes, 6)  # a later batch of history versions only
    assert not day_delta.usable(changes, 4)
    assert not day_delta.usable(changes, None)  # never refreshed
    assert not day_delta.usable(None, 5)  # the window rows were rebuilt
