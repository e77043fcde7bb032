"""Kaplan–Meier counts per finest group summed up to the breakdown levels in numpy (km_windows.rolled_up)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from resolve311.metrics.definitions import ALL, GROUP_COLS, LEVELS
from resolve311.metrics.km_windows import rolled_up
from resolve311.metrics.levels import fine_groups, levels_of

G = list(GROUP_COLS)


def _fine_counts(seed: int, rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per (fine group, unit, time) as the engine gives them, and the fine groups."""
    rng = np.random.default_rng(seed)
    groups = pd.DataFrame(
        {
            "agency": rng.choice(["DOT", "DSNY", "NYPD"], rows),
            "complaint_type": rng.choice(["Noise", "Pothole", "Heat", "Graffiti"], rows),
            "borough": rng.choice(["BRONX", "QUEENS", "Unspecified"], rows),
        }
    )
    fine = fine_groups(groups)
    frame = groups.merge(fine, on=G)
    frame["unit"] = rng.integers(0, 10, rows)
    frame["t_hours"] = rng.choice([0.25, 0.5, 7.0, 48.0, 720.0, 744.0], rows)
    frame["n_event"] = rng.integers(0, 4, rows)
    frame["n_censored"] = rng.integers(0, 3, rows)
    counted = frame.groupby(["gid", "unit", "t_hours"], as_index=False)[["n_event", "n_censored"]].sum()
    return counted, frame


def _reference(frame: pd.DataFrame, levels_groups: pd.DataFrame) -> pd.DataFrame:
    """The same sums by the group strings at every level (the rows repeated per level, grouped)."""
    parts = []
    for level in LEVELS:
        part = frame.copy()
        for column in G:
            if column not in level:
                part[column] = ALL
        parts.append(part)
    wide = pd.concat(parts, ignore_index=True)
    sums = wide.groupby([*G, "unit", "t_hours"], as_index=False)[["n_event", "n_censored"]].sum()
    named = levels_groups.reset_index(names="lg")
    out = sums.merge(named, on=G)[["lg", "unit", "t_hours", "n_event", "n_censored"]]
    return out.sort_values(["lg", "unit", "t_hours"]).reset_index(drop=True)


@pytest.mark.parametrize("dense_keys", [1 << 25, 0])
def test_rolled_up_sums_every_level_like_grouping_by_strings(dense_keys: int) -> None:
    counted, frame = _fine_counts(7, 3_000)
    levels = levels_of(fine_groups(frame))
    out = rolled_up(counted, levels, dense_keys=dense_keys)
    expected = _reference(frame, levels.groups)
    assert len(out) > 100 and out["lg"].nunique() == len(levels.groups)
    pdt.assert_frame_equal(out.astype({"lg": "int64", "unit": "int64"}), expected, check_dtype=False)
    assert out["n_event"].dtype == np.int64 and out["n_censored"].dtype == np.int64


def test_rolled_up_of_no_counts_is_empty() -> None:
    counted, frame = _fine_counts(3, 50)
    levels = levels_of(fine_groups(frame))
    assert rolled_up(counted.iloc[:0], levels).empty
