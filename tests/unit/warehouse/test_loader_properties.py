"""Property: whatever the delivery order and batching, the newest version wins and every version is kept."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from resolve311.warehouse.connection import migrate
from resolve311.warehouse.loader import load_batch
from resolve311.warehouse.normalize import normalize

STATUSES = ("Open", "In Progress", "Closed")

# A version: (key index, :updated_at hour, status). Deliveries: a list of batches of versions.
versions = st.tuples(st.integers(0, 3), st.integers(0, 5), st.sampled_from(STATUSES))
deliveries = st.lists(st.lists(versions, min_size=1, max_size=6), min_size=1, max_size=4)


def _row(key: int, hour: int, status: str) -> dict[str, Any]:
    updated = datetime(2024, 4, 16) + timedelta(hours=hour)
    return {
        "unique_key": f"k{key}",
        "created_date": "2024-04-15T10:00:00.000",
        "status": status,
        ":updated_at": updated.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


@settings(max_examples=10, deadline=None)
@given(batches=deliveries)
def test_final_state_is_the_newest_version_of_each_key(batches: list[list[Any]]) -> None:
    with duckdb.connect() as con:  # a real, in-memory warehouse: fast enough for many examples
        migrate(con)
        for seq, batch in enumerate(batches, start=1):
            normalized = normalize([_row(*v) for v in batch], source="nyc", dataset=None)
            con.begin()
            load_batch(con, normalized, batch_seq=seq)
            con.commit()
        stored = dict(con.execute("SELECT unique_key, status FROM requests").fetchall())
        version_count = con.execute("SELECT count(*) FROM request_versions").fetchone()

    # Expected: per key, the version with the greatest (:updated_at, batch, position in batch).
    newest: dict[str, tuple[tuple[int, int, int], str]] = {}
    distinct: set[tuple[int, int, str]] = set()
    for seq, batch in enumerate(batches, start=1):
        kept: dict[int, tuple[int, int, str]] = {}
        for pos, (key, hour, status) in enumerate(batch):
            if key not in kept or hour >= kept[key][0]:
                kept[key] = (hour, pos, status)  # in-batch: newest, then the later row
        for key, (hour, pos, status) in kept.items():
            distinct.add((key, hour, status))
            order = (hour, seq, pos)
            if f"k{key}" not in newest or order > newest[f"k{key}"][0]:
                newest[f"k{key}"] = (order, status)
    assert stored == {k: status for k, (_, status) in newest.items()}
    assert version_count == (len(distinct),)
