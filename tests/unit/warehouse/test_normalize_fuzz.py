"""Fuzz: no row, however malformed, breaks a load; every input row is accounted for."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from resolve311.warehouse.connection import migrate
from resolve311.warehouse.loader import load_batch
from resolve311.warehouse.normalize import normalize

junk = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.sampled_from(
        [
            "2024-04-16T03:03:15.000",
            "04/16/2024 03:03:15 AM",
            "1900-01-01T00:00:00.000",
            "3027-01-01T00:00:00.000",
            "2024-02-30T00:00:00.000",
            "2024-03-10T02:30:00.000",
            "40.7",
            "-73.9",
            "NaN",
            "inf",
            "1e400",
            "POINT (-73.9 40.7)",
            '{"type":"Point","coordinates":[]}',
            '{"latitude": {}}',
            "[1,2",
            "Closed",
            "Unspecified",
            "",
        ]
    ),
)
FIELDS = [
    "unique_key",
    "created_date",
    "closed_date",
    "due_date",
    "status",
    "borough",
    "latitude",
    "longitude",
    "location",
    ":updated_at",
    ":created_at",
    ":@computed_region_x",
]
row = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, junk))
keyed = st.builds(lambda r, k: {**r, "unique_key": k} if k else r, row, st.sampled_from(["", "1", "2", "3"]))


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(keyed, max_size=12))
def test_any_rows_normalise_and_load(rows: list[dict[str, str | None]]) -> None:
    batch = normalize(rows, source="nyc", dataset=None)
    assert batch.rows.num_rows + batch.duplicates + len(batch.quarantined) == len(rows)
    with duckdb.connect() as con:
        migrate(con)
        result = load_batch(con, batch, batch_seq=1)
        stored = con.execute(
            "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM quarantine)"
        ).fetchone()
    assert result.rows_new == batch.rows.num_rows
    assert stored == (batch.rows.num_rows, len(batch.quarantined))
