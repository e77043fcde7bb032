"""Kaplan–Meier from grouped counts, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from resolve311.metrics.km import CURVE_HOURS, km_curves, km_median, survival_steps


def counts(rows: list[tuple[str, float, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["g", "t_hours", "n_event", "n_censored"])


def test_censored_requests_stay_at_risk_until_their_time() -> None:
    # 5 requests: closes at 1 h and 3 h; censored at 2 h; closes at 4 h; censored at 5 h
    df = counts([("a", 1, 1, 0), ("a", 2, 0, 1), ("a", 3, 1, 0), ("a", 4, 1, 0), ("a", 5, 0, 1)])
    steps = survival_steps(df, ["g"]).set_index("t_hours")
    assert list(steps["at_risk"]) == [5, 4, 3, 2, 1]
    assert steps.loc[1, "survival"] == pytest.approx(4 / 5)
    assert steps.loc[3, "survival"] == pytest.approx(4 / 5 * 2 / 3)
    assert steps.loc[4, "survival"] == pytest.approx(4 / 5 * 2 / 3 * 1 / 2)
    assert km_median(survival_steps(df, ["g"]), ["g"]).iloc[0]["km_median_h"] == 4


def test_ties_close_before_censoring_and_median_absent_when_never_half() -> None:
    df = counts([("a", 2, 1, 3), ("b", 1, 1, 0), ("b", 1, 0, 1)])
    steps = survival_steps(df, ["g"])
    a = steps[steps["g"] == "a"].iloc[0]
    assert (a["at_risk"], a["survival"]) == (4, pytest.approx(0.75))
    medians = km_median(steps, ["g"]).set_index("g")["km_median_h"]
    assert "a" not in medians.index  # S never reaches 1/2: NULL, not a made-up number
    assert medians["b"] == 1  # one of two closes at 1 h: S = 1/2


def test_curve_is_sampled_at_the_fixed_grid() -> None:
    df = counts([("a", 0.25, 1, 0), ("a", 30, 1, 0), ("a", 100, 0, 2)])
    curve = km_curves(survival_steps(df, ["g"]), ["g"]).set_index("t_hours")
    # sampled at the grid up to the longest follow-up (100 h), not beyond
    assert list(curve.index) == [float(t) for t in CURVE_HOURS if t <= 100]
    assert curve.loc[0.0, "survival"] == 1.0 and curve.loc[0.0, "at_risk"] == 4
    assert curve.loc[24.0, "survival"] == pytest.approx(0.75)
    assert curve.loc[48.0, "survival"] == pytest.approx(0.5)
    assert curve.loc[48.0, "at_risk"] == 2
    assert curve.loc[96.0, "at_risk"] == 2
    assert not any(math.isnan(s) for s in curve["survival"])


def _steps_by_groupby(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The grouped pandas form the vectorised steps replaced (the reference)."""
    df = counts.groupby([*keys, "t_hours"], as_index=False)[["n_event", "n_censored"]].sum()
    df = df.sort_values([*keys, "t_hours"], kind="mergesort").reset_index(drop=True)
    group = df.groupby(keys, sort=False).ngroup()
    leaving = df["n_event"] + df["n_censored"]
    left_before = leaving.groupby(group).cumsum() - leaving
    df["at_risk"] = (leaving.groupby(group).transform("sum") - left_before).astype("int64")
    df["survival"] = (1.0 - df["n_event"] / df["at_risk"]).groupby(group).cumprod()
    return df


def test_vectorised_steps_equal_the_grouped_pandas_ones_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    frame = pd.DataFrame(
        {
            "agency": rng.choice(["NYPD", "DSNY", "*", "DOT"], n),
            "borough": rng.choice(["BRONX", "QUEENS", "*"], n),
            "unit": rng.integers(0, 10, n),
            "t_hours": rng.choice([0.0, 0.25, 1.5, 48.0, 49.0, 720.0, 744.0, 2160.0], n),
            "n_event": rng.integers(0, 4, n),
            "n_censored": rng.integers(0, 3, n),
        }
    )
    for keys in (["agency", "borough", "unit"], ["agency"], ["unit"]):
        expected = _steps_by_groupby(frame, keys)
        pd.testing.assert_frame_equal(survival_steps(frame, keys), expected, check_exact=True)
    empty = survival_steps(frame.iloc[:0], ["agency"])
    assert empty.empty
    assert list(empty.columns) == ["agency", "t_hours", "n_event", "n_censored", "at_risk", "survival"]
