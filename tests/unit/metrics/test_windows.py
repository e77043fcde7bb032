"""Window units and moments: pure date arithmetic."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from resolve311.metrics.windows import (
    as_of_date_for,
    bucket_of_unit,
    dnum,
    from_dnum,
    local_ms,
    unit_end,
    unit_moments,
    unit_of_offset,
    unit_shift,
)


def test_as_of_date_is_the_day_before_the_newest_timestamp() -> None:
    assert as_of_date_for(datetime(2025, 3, 20, 0, 0)) == date(2025, 3, 19)
    assert as_of_date_for(datetime(2025, 3, 20, 23, 59)) == date(2025, 3, 19)


def test_day_numbers_round_trip() -> None:
    assert dnum(date(1970, 1, 1)) == 0
    assert from_dnum(dnum(date(2025, 3, 9))) == date(2025, 3, 9)


@pytest.mark.parametrize(
    ("days", "offset", "unit"),
    [
        (1, 0, 0), (1, 1, None), (1, 7, 1), (1, 56, 8), (1, 63, None), (1, 364, 9), (1, 365, None),
        (7, 6, 0), (7, 7, 1), (7, 62, 8), (7, 63, None), (7, 370, 9), (7, 371, None),
        (28, 27, 0), (28, 28, 1), (28, 251, 8), (28, 252, None), (28, 391, 9), (28, 392, None),
        (1, -1, None),
    ],
)  # fmt: skip
def test_unit_of_offset(days: int, offset: int, unit: int | None) -> None:
    assert unit_of_offset(offset, days) == unit


def test_units_never_overlap_and_keep_weekdays() -> None:
    for days in (1, 7, 28):
        seen: dict[int, int] = {}
        for offset in range(0, 400):
            unit = unit_of_offset(offset, days)
            if unit is not None:
                seen[offset] = unit
        for unit in range(10):
            members = [o for o, u in seen.items() if u == unit]
            assert len(members) == days
            assert len({o % 7 for o in members}) == min(days, 7)
        assert unit_shift(days) % 7 == 0


def test_unit_end_dates() -> None:
    d = date(2025, 3, 19)
    assert unit_end(d, 1, 1) == date(2025, 3, 12)
    assert unit_end(d, 28, 2) == date(2025, 1, 22)
    assert unit_end(d, 7, 9) == date(2024, 3, 20)
    assert bucket_of_unit(0) == "recent" and bucket_of_unit(4) == "8w" and bucket_of_unit(9) == "1y"


def test_moments_are_local_midnight_after_each_unit_across_dst() -> None:
    moments = {(m.window, m.unit): m for m in unit_moments(date(2025, 3, 19), "America/New_York")}
    assert len(moments) == 30
    recent = moments[("1d", 0)]
    assert recent.ms == local_ms(datetime(2025, 3, 20), "America/New_York")
    assert recent.ms - moments[("1d", 1)].ms == 7 * 24 * 3_600_000
    # 2025-03-09 (DST start) lies between 03-06 and 03-13: one hour shorter than 7 days
    assert moments[("1d", 1)].ms - moments[("1d", 2)].ms == (7 * 24 - 1) * 3_600_000
