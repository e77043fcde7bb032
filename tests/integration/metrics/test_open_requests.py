"""The backlog's stored open requests: updated from the new versions only, equal to a rebuild."""

from __future__ import annotations

from datetime import datetime, timedelta

from resolve311.metrics import open_requests
from resolve311.metrics.staging import create_input_views
from resolve311.metrics.windows import local_ms

DAY0 = datetime(2025, 3, 3, 9)


def ms(moment: datetime) -> int:
    return local_ms(moment, "America/New_York")


def stored(con) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT unique_key, agency, created_ms, open_until FROM metric_open_requests ORDER BY ALL"
    ).fetchall()


def rebuilt(con, since: int) -> list[tuple[object, ...]]:
    con.execute("CREATE OR REPLACE TEMP TABLE kept AS SELECT * FROM metric_open_requests")
    assert open_requests.update(con, "nyc", since, full=True) == "rebuilt"
    out = stored(con)
    con.execute("DELETE FROM metric_open_requests")
    con.execute("INSERT INTO metric_open_requests SELECT * FROM kept")
    return out


def test_the_update_reads_only_new_versions_and_equals_a_rebuild(warehouse) -> None:
    w, con = warehouse, warehouse.con
    w.add("open", DAY0, batch_seq=1)
    w.add("closed-early", DAY0, DAY0 + timedelta(hours=1), batch_seq=1)
    w.add("closes-later", DAY0, batch_seq=1)
    w.add("reopened", DAY0, DAY0 + timedelta(hours=1), batch_seq=1)
    w.commit()
    create_input_views(con, "nyc")
    since = ms(DAY0 + timedelta(hours=2))
    assert open_requests.update(con, "nyc", since, full=False) == "rebuilt"  # first use
    assert [r[0] for r in stored(con)] == ["closes-later", "open"]

    w.add("closes-later", DAY0, DAY0 + timedelta(days=3), batch_seq=2)
    w.add("reopened", DAY0, None, agency="HPD", batch_seq=2)  # its latest version is open again
    w.add("new", DAY0 + timedelta(days=2), batch_seq=2)
    w.commit()
    assert open_requests.update(con, "nyc", since, full=False) == "updated"
    assert [r[:2] for r in stored(con)] == [
        ("closes-later", "NYPD"), ("new", "NYPD"), ("open", "NYPD"), ("reopened", "HPD"),
    ]  # fmt: skip
    assert stored(con) == rebuilt(con, since)

    later = ms(DAY0 + timedelta(days=4))  # the horizon moves on: closed by then, dropped
    assert open_requests.update(con, "nyc", later, full=False) == "updated"
    assert [r[0] for r in stored(con)] == ["new", "open", "reopened"]
    assert stored(con) == rebuilt(con, later)
    assert open_requests.read_state(con, "nyc") == open_requests.OpenState(later, 2)

    assert open_requests.update(con, "nyc", since, full=False) == "rebuilt"  # moved back: rebuild
    assert [r[0] for r in stored(con)] == ["closes-later", "new", "open", "reopened"]
