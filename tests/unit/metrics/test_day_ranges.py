"""The affected days as a few ranges the storage can skip row groups by."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resolve311.metrics.staging import day_ranges


def test_a_sentinel_day_far_from_the_rest_gets_its_own_range() -> None:
    assert day_ranges([20000, -25568, 19990, 19991, 20010]) == [(-25568, -25567), (19990, 20011)]


def test_at_most_eight_ranges_split_at_the_widest_gaps() -> None:
    days = [0, 100, 300, 600, 1000, 1500, 2100, 2800, 3600, 4500]
    ranges = day_ranges(days)
    assert len(ranges) == 8 and ranges[0] == (0, 301)  # the two narrowest gaps (100, 200) are merged


@given(st.lists(st.integers(-30000, 60000), min_size=1, max_size=60))
def test_ranges_cover_every_day_are_disjoint_and_ordered(days: list[int]) -> None:
    ranges = day_ranges(days)
    assert 1 <= len(ranges) <= 8
    assert all(any(lo <= d < (hi or d + 1) for lo, hi in ranges) for d in days)
    ends = [x for lo, hi in ranges for x in (lo, hi)]
    assert ends == sorted(ends) and all(hi is not None and lo < hi for lo, hi in ranges)
    assert {r[0] for r in ranges} <= set(days) and {int(r[1] or 0) - 1 for r in ranges} <= set(days)
