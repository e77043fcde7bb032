"""The windowed metrics' stored input: updated from the newly written requests only, equal to a rebuild."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from resolve311.metrics import staging, window_rows
from resolve311.metrics.staging import create_input_views, window_rows_sql
from resolve311.metrics.windows import dnum

DAY0 = datetime(2025, 3, 3, 9)
SINCE = dnum(DAY0.date())


def stored(con) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT unique_key, agency, created_dnum, closed_dnum, ttc_h FROM metric_window_rows ORDER BY ALL"
    ).fetchall()


def staged_now(con, since: int) -> list[tuple[object, ...]]:
    """What staging from ``requests`` gives (the rows the refresh read before the table existed)."""
    columns = "unique_key, agency, created_dnum, closed_dnum, ttc_h"
    return con.execute(f"SELECT * FROM ({window_rows_sql(since, columns)}) ORDER BY ALL").fetchall()


def input_rows(con) -> int:
    return int(con.execute(f"SELECT count(*) FROM {window_rows.INPUT}").fetchall()[0][0])


def test_the_update_reads_only_newly_written_requests_and_equals_staging_from_requests(warehouse) -> None:
    w, con = warehouse, warehouse.con
    w.add("old-open", DAY0 - timedelta(days=30), batch_seq=1)  # before the reach, open: not kept
    w.add("old-closes", DAY0 - timedelta(days=30), batch_seq=1)
    w.add("recent", DAY0 + timedelta(days=1), batch_seq=1)
    w.add("sentinel", DAY0 + timedelta(days=1), datetime(3023, 1, 1), batch_seq=1)
    w.add("leaves", DAY0 + timedelta(hours=1), DAY0 + timedelta(hours=3), batch_seq=1)
    w.commit()
    create_input_views(con, "nyc")
    assert window_rows.update(con, "nyc", SINCE, full=False).rebuilt  # first use
    assert [r[0] for r in stored(con)] == ["leaves", "recent", "sentinel"]
    assert stored(con) == staged_now(con, SINCE)

    w.add("old-closes", DAY0 - timedelta(days=30), DAY0 + timedelta(days=2), batch_seq=2)  # into reach
    w.add("recent", DAY0 + timedelta(days=1), agency="HPD", batch_seq=2)  # changed
    w.add("dup", DAY0 + timedelta(days=2), status="Closed - Duplicate", batch_seq=2)
    w.commit()
    assert not window_rows.update(con, "nyc", SINCE, full=False).rebuilt
    assert [r[:2] for r in stored(con)] == [
        ("dup", "NYPD"), ("leaves", "NYPD"), ("old-closes", "NYPD"), ("recent", "HPD"), ("sentinel", "NYPD"),
    ]  # fmt: skip
    assert stored(con) == staged_now(con, SINCE)
    create_input_views(con, "nyc", duplicate="starts_with(lower(status), 'closed - duplicate')")
    assert window_rows.update(con, "nyc", SINCE, full=False).rebuilt  # another definition
    w.add("new", DAY0 + timedelta(days=3), batch_seq=3)
    w.add("recent", DAY0 + timedelta(days=1), status="Closed - Duplicate", batch_seq=3)  # now left out
    w.commit()
    assert not window_rows.update(con, "nyc", SINCE, full=False).rebuilt
    assert [r[:2] for r in stored(con)] == [
        ("leaves", "NYPD"), ("new", "NYPD"), ("old-closes", "NYPD"), ("sentinel", "NYPD"),
    ]  # fmt: skip
    assert stored(con) == staged_now(con, SINCE)
    assert input_rows(con) == 4

    later = SINCE + 1  # the reach moves on: "leaves" (created and closed on DAY0) drops out
    assert not window_rows.update(con, "nyc", later, full=False).rebuilt
    assert [r[0] for r in stored(con)] == ["new", "old-closes", "sentinel"]
    assert stored(con) == staged_now(con, later)
    assert window_rows.read_state(con, "nyc").batch_seq == 3  # type: ignore[union-attr]

    assert window_rows.update(con, "nyc", SINCE, full=False).rebuilt  # moved back: rebuild
    assert [r[0] for r in stored(con)] == ["leaves", "new", "old-closes", "sentinel"]
    assert window_rows.update(con, "nyc", SINCE, full=True).rebuilt
    assert stored(con) == staged_now(con, SINCE)


def test_a_failed_update_leaves_the_rows_and_their_state_as_they_were(warehouse) -> None:
    w, con = warehouse, warehouse.con
    w.add("a", DAY0, batch_seq=1)
    w.commit()
    create_input_views(con, "nyc")
    window_rows.update(con, "nyc", SINCE, full=False)
    before = (stored(con), window_rows.read_state(con, "nyc"))
    w.add("b", DAY0, batch_seq=2)
    w.commit()
    con.execute("CREATE OR REPLACE TEMP VIEW metric_input AS SELECT 1 / 0 AS broken")  # another SQL
    with pytest.raises(duckdb.Error):
        window_rows.update(con, "nyc", SINCE, full=False)
    assert (stored(con), window_rows.read_state(con, "nyc")) == before


def day_input(con) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT agency, created_dnum, closed_dnum, ttc_h FROM metric_day_input ORDER BY ALL"
    ).fetchall()


def test_the_affected_days_rows_read_from_the_kept_rows_are_those_read_from_requests(warehouse) -> None:
    """Days inside the reach from the kept rows, older days from ``requests``: the same rows, none twice."""
    w, con = warehouse, warehouse.con
    old = DAY0 - timedelta(days=40)
    w.add("old", old, old + timedelta(days=2), agency="A")  # created and closed before the reach
    w.add("old-late", old, DAY0 + timedelta(days=1), agency="B")  # closed inside it
    w.add("old-open", old - timedelta(days=1), agency="C")
    w.add("recent", DAY0 + timedelta(days=1), DAY0 + timedelta(days=2), agency="D")
    w.add("sentinel", old, datetime(3023, 1, 1), agency="E")
    w.add("long", old - timedelta(days=300), old + timedelta(days=2), agency="F")  # closed long after
    w.commit()
    create_input_views(con, "nyc")
    window_rows.update(con, "nyc", SINCE, full=False)
    day = dnum
    for days in (
        [day(old.date())],
        [day((old + timedelta(days=2)).date()), day((DAY0 + timedelta(days=1)).date())],
        [day((old - timedelta(days=1)).date()), day(datetime(3023, 1, 1).date()), SINCE + 2],
        [SINCE + 1],
    ):
        staging.create_day_input(con, days)
        want = day_input(con)
        staging.create_day_input(con, days, (window_rows.INPUT, SINCE))
        assert day_input(con) == want, days
    assert len(want) == 2  # "old-late" and "recent", once each


def test_the_update_hands_back_the_changed_requests_old_and_new_rows(warehouse) -> None:
    """What the day tables' delta counts: the rows taken out (the changed requests' old rows, and
    those that left the reach) and every current row of the changed requests, in reach or not."""
    w, con = warehouse, warehouse.con
    old = DAY0 - timedelta(days=30)
    w.add("moves", DAY0 + timedelta(days=1), agency="HPD", batch_seq=1)
    w.add("leaves", DAY0 + timedelta(hours=1), DAY0 + timedelta(hours=3), batch_seq=1)
    w.add("old-open", old, batch_seq=1)  # not kept: created before the reach, open
    w.add("dups", DAY0 + timedelta(days=2), batch_seq=1)
    w.add("kept", DAY0 + timedelta(days=2), batch_seq=1)
    w.commit()
    create_input_views(con, "nyc", duplicate="starts_with(lower(status), 'closed - duplicate')")
    assert window_rows.update(con, "nyc", SINCE, full=False).rebuilt  # first use
    w.add("moves", DAY0 + timedelta(days=1), agency="DEP", batch_seq=2)
    w.add("old-open", old, old + timedelta(days=2), batch_seq=2)  # closed, still out of reach
    w.add("dups", DAY0 + timedelta(days=2), status="Closed - Duplicate", batch_seq=2)
    w.add("new", DAY0 + timedelta(days=3), batch_seq=2)
    w.commit()
    changes = window_rows.update(con, "nyc", SINCE + 1, full=False).changes
    assert changes is not None and changes.applied == 1

    def keyed(table) -> list[tuple[object, ...]]:
        return sorted(zip(*(table.column(c).to_pylist() for c in ("unique_key", "agency")), strict=True))

    assert keyed(changes.old) == [("dups", "NYPD"), ("leaves", "NYPD"), ("moves", "HPD")]
    assert keyed(changes.new) == [("moves", "DEP"), ("new", "NYPD"), ("old-open", "NYPD")]
    assert set(changes.new.column_names) == {"unique_key", *window_rows.COLUMNS}
    assert [r[0] for r in stored(con)] == ["kept", "moves", "new"]
    assert stored(con) == staged_now(con, SINCE + 1)
    assert window_rows.update(con, "nyc", SINCE + 1, full=True).rebuilt
