"""Property: local -> UTC agrees with the tz database, with one fixed rule at DST switches."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from resolve311.warehouse.normalize import normalize

NEW_YORK = ZoneInfo("America/New_York")

# Times near the DST switches are the interesting ones: mix them in on purpose.
switch_times = st.builds(
    lambda year, month, day, minute: datetime(year, month, day, 0, 0) + timedelta(minutes=minute),
    st.integers(2010, 2030),
    st.sampled_from([3, 11]),
    st.integers(1, 14),
    st.integers(0, 4 * 60),
)
any_times = st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


def expected_utc(local: datetime) -> datetime:
    """The standard-time reading wherever the wall clock is ambiguous or skipped."""
    offsets = [local.replace(tzinfo=NEW_YORK, fold=fold).utcoffset() for fold in (0, 1)]
    offset = min(o for o in offsets if o is not None)
    return local - offset


@settings(max_examples=10, deadline=None)
@given(times=st.lists(st.one_of(switch_times, any_times), min_size=1, max_size=300))
def test_created_utc_matches_the_tz_database(times: list[datetime]) -> None:
    rows = [
        {"unique_key": str(i), "created_date": t.strftime("%Y-%m-%dT%H:%M:%S.000")}
        for i, t in enumerate(times)
    ]
    batch = normalize(rows, source="nyc", dataset=None)
    got = batch.rows.column("created_utc").to_pylist()
    assert got == [expected_utc(t) for t in times]
    assert all(timedelta(hours=4) <= utc - t <= timedelta(hours=5) for utc, t in zip(got, times, strict=True))
