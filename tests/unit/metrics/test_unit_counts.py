"""The kept windowed counts' arithmetic: the days in which two as-of days' units differ, and the
cohort's eligibility edge (pure)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

import ibis
import pandas as pd
import pytest

from resolve311.metrics.definitions import (
    COHORT_DAYS,
    GROUP_COLS,
    Params,
    cohort_rows,
    cohort_unit_counts,
    unit_day_rows,
)
from resolve311.metrics.unit_counts import all_eligible, shift_days
from resolve311.metrics.window_tables import Context
from resolve311.metrics.windows import dnum, local_ms

AS_OF = dnum(date(2025, 3, 19))
TZ = "America/New_York"


def _applied(before: int, after: int, lags: tuple[int, ...]) -> Counter[tuple[object, ...]]:
    """``before``'s unit days with the signed days added: must be ``after``'s."""
    out = Counter(unit_day_rows(before, lags))
    for row in shift_days(before, after, lags).itertuples(index=False, name=None):
        out[row[:-1]] += row[-1]
    return +out


@pytest.mark.parametrize("step", [0, 1, 2, 7, 30])
@pytest.mark.parametrize("lags", [(0,), COHORT_DAYS])
def test_the_signed_days_take_one_as_of_days_units_to_anothers(step: int, lags: tuple[int, ...]) -> None:
    assert _applied(AS_OF, AS_OF + step, lags) == Counter(unit_day_rows(AS_OF + step, lags))
    assert _applied(AS_OF + step, AS_OF, lags) == Counter(unit_day_rows(AS_OF, lags))


def test_after_one_day_only_sixty_of_the_360_unit_days_change() -> None:
    days = shift_days(AS_OF, AS_OF + 1, (0,))
    assert len(unit_day_rows(AS_OF)) == 1 * 10 + 7 * 10 + 28 * 10
    # the 1-day window: each of its ten units is a new day (10 in, 10 out); the 7- and 28-day
    # windows: each unit one day in, one day out
    assert len(days) == 60
    assert days["w"].sum() == 0
    assert sorted(Counter(days["window"]).values()) == [20, 20, 20]
    assert shift_days(AS_OF, AS_OF, COHORT_DAYS).empty


def _context(as_of: datetime) -> Context:
    return Context(
        as_of_date=as_of.date() - timedelta(days=1),
        as_of_ms=local_ms(as_of, TZ),
        history_start=date(2020, 1, 1),
        tz=TZ,
        grid_deg=0.01,
        anomaly_threshold=3.5,
        min_group_size=20,
    )


def _late_rows(ctx: Context) -> ibis.Table:
    """A request at 23:59 local on each day of the cohorts' reach (the last to become eligible)."""
    last = ctx.as_of_date
    days = [last - timedelta(days=back) for back in range(430)]
    frame = pd.DataFrame(
        {
            "agency": "NYPD",
            "complaint_type": "Noise",
            "borough": "BROOKLYN",
            "created_dnum": [dnum(d) for d in days],
            "created_ms": [local_ms(datetime.combine(d, time(23, 59)), TZ) for d in days],
            "ttc_h": 1.0,
        }
    )
    return ibis.memtable(frame)


@pytest.mark.parametrize(
    "as_of",
    [
        datetime(2025, 3, 20, 14, 30),
        datetime(2025, 3, 20, 0, 5),  # a spring change (2025-03-09) between it and its units
        datetime(2024, 11, 20, 0, 20),  # the autumn change (2024-11-03), and the spring one's a year back
        datetime(2024, 11, 20, 1, 20),
        datetime(2025, 1, 15, 0, 30),
    ],
)
def test_every_cohort_row_is_eligible_exactly_when_all_eligible_says_so(as_of: datetime) -> None:
    """Counting every cohort row as eligible gives the real cohort counts exactly when
    :func:`all_eligible` holds (false only when a 24-hour step back across a DST change puts a
    unit's cut-off inside its last day)."""
    ctx = _context(as_of)
    p = Params(dnum(ctx.as_of_date), ctx.as_of_ms)
    rows = cohort_rows(_late_rows(ctx), p)
    keys = [*GROUP_COLS, "window", "unit", "cohort_days"]
    real, kept = (
        cohort_unit_counts(rows, p, all_eligible=flag).to_pandas().sort_values(keys, ignore_index=True)
        for flag in (False, True)
    )
    assert real[keys].equals(kept[keys])
    assert real.equals(kept) == all_eligible(ctx)


def test_the_eligibility_edge_occurs_only_in_the_first_hour_of_a_day() -> None:
    edges = [all_eligible(_context(datetime(2025, 5, 20, hour, 30))) for hour in range(24)]
    assert edges == [False] + [True] * 23
