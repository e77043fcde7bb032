"""Robust score, shares and the small-sample mark (pure pandas)."""

from __future__ import annotations

import pandas as pd
import pytest

from resolve311.metrics.daily import nan_quantile_axis0
from resolve311.metrics.scoring import MAD_SCALE, robust_scores

GROUP = {"agency": "A", "complaint_type": "*", "borough": "*", "window": "7d"}


def unit_values(values: list[float]) -> pd.DataFrame:
    rows = [{**GROUP, "unit": k + 1, "bucket": "8w", "created_per_day": v} for k, v in enumerate(values)]
    frame = pd.DataFrame(rows)
    from resolve311.metrics.scoring import METRICS

    for metric in METRICS:
        if metric not in frame:
            frame[metric] = float("nan")
    return frame


def recent(value: float) -> pd.DataFrame:
    return pd.DataFrame([{**GROUP, "metric": "created_per_day", "recent": value}])


def test_score_is_distance_from_trimmed_mean_in_scaled_mads() -> None:
    scores = robust_scores(unit_values([10, 12, 11, 9, 10, 30, 10, 11]), recent(20))
    # centre: mean without the lowest (9) and highest (30) = 64 / 6; the odd week 30 does not move it
    # median 10.5; |x - 10.5| = .5 1.5 .5 1.5 .5 19.5 .5 .5 -> MAD 0.5
    assert scores.iloc[0]["score"] == pytest.approx((20 - 64 / 6) / (MAD_SCALE * 0.5))


def test_with_few_units_the_centre_is_the_median() -> None:
    scores = robust_scores(unit_values([10, 12, 11, 9]), recent(20))
    # 4 units: median 10.5, MAD median(.5, 1.5, .5, 1.5) = 1
    assert scores.iloc[0]["score"] == pytest.approx((20 - 10.5) / (MAD_SCALE * 1.0))


def test_no_score_when_mad_is_zero_or_too_few_units() -> None:
    assert pd.isna(robust_scores(unit_values([5, 5, 5, 5]), recent(9)).iloc[0]["score"])
    assert pd.isna(robust_scores(unit_values([1, 9]), recent(9)).iloc[0]["score"])


def test_nan_quantile_matches_linear_interpolation() -> None:
    import numpy as np

    values = np.array([[1.0, np.nan], [2.0, np.nan], [4.0, 3.0]])
    assert nan_quantile_axis0(values, 0.5).tolist()[0] == 2.0
    assert nan_quantile_axis0(values, 0.9).tolist()[0] == pytest.approx(2 + 0.8 * 2)
    assert nan_quantile_axis0(values, 0.1).tolist()[1] == 3.0


def test_false_alarm_rate_on_history_counts_agency_days_only() -> None:
    import numpy as np

    from resolve311.metrics.daily import DayMatrix, anomaly_rate

    index = pd.MultiIndex.from_tuples(
        [("A", "*", "*"), ("*", "*", "*")], names=["agency", "complaint_type", "borough"]
    )
    days = np.arange(100, 170)
    weekly = np.tile([10.0, 11, 12, 9, 10, 11, 10], 10)  # a weekday pattern that repeats
    created = np.vstack([weekly, weekly])
    created[0, -1] = 40.0  # one spike on the agency's last day
    matrix = DayMatrix(index, days, created, created * 0, first=100)
    rate, evaluated = anomaly_rate(matrix, threshold=3.5)
    # same-weekday history is constant (MAD 0) -> no score; make it vary and try again
    assert (rate, evaluated) == (None, 0)
    created[0, :-1] += np.tile([0.0, 1.0], 35)[:-1]
    rate, evaluated = anomaly_rate(DayMatrix(index, days, created, created * 0, first=100), threshold=3.5)
    assert evaluated > 0
    assert rate == pytest.approx(1 / evaluated)
