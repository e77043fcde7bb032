"""The (day, window, unit) join table agrees with each unit's span from windows.unit_end."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pandas as pd

from resolve311.metrics.definitions import COHORT_DAYS, Params, created_in_units, unit_days
from resolve311.metrics.windows import EIGHT_WEEK_UNITS, WINDOW_DAYS, YEAR_UNIT, dnum, unit_end

AS_OF = date(2025, 3, 19)


def _expected(lag: int) -> set[tuple[int, str, int, int]]:
    """(day, window, unit, ushift) for every day of every unit, moved back ``lag`` days."""
    out = set()
    for window, days in WINDOW_DAYS.items():
        for unit in (0, *EIGHT_WEEK_UNITS, YEAR_UNIT):
            end = unit_end(AS_OF, days, unit)
            shift = (AS_OF - end).days
            for back in range(days):
                out.add((dnum(end - timedelta(days=back + lag)), window, unit, shift))
    return out


def _got(frame: pd.DataFrame, lag: int) -> set[tuple[int, str, int, int]]:
    part = frame[frame["lag"] == lag][["day", "window", "unit", "ushift"]]
    return set(part.itertuples(index=False, name=None))


def test_unit_days_cover_exactly_every_day_of_every_unit() -> None:
    assert _got(unit_days(Params(dnum(AS_OF), 0)).to_pandas(), 0) == _expected(0)
    cohorts = unit_days(Params(dnum(AS_OF), 0), COHORT_DAYS).to_pandas()
    assert set(cohorts["lag"]) == set(COHORT_DAYS)
    for lag in COHORT_DAYS:
        assert _got(cohorts, lag) == _expected(lag)


def test_created_in_units_keeps_each_row_once_per_window_unit_it_falls_in() -> None:
    days = list(range(dnum(AS_OF) - 400, dnum(AS_OF) + 3))
    rows = ibis.memtable(
        pd.DataFrame({"created_dnum": pd.Series(days, dtype="int32"), "k": range(len(days))})
    )
    got = created_in_units(rows, Params(dnum(AS_OF), 0)).to_pandas()
    expected = {(d, w, u) for d, w, u, _ in _expected(0)}
    assert set(got[["created_dnum", "window", "unit"]].itertuples(index=False, name=None)) == expected
    assert len(got) == len(expected)
    assert set(got["bucket"]) == {"recent", "8w", "1y"}
