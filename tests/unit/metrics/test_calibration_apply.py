"""calibration.apply: thresholds and p-values per (agency, window, metric), vectorised, equal the
row-by-row reference (``_p_value`` below, the form ``apply`` had) bit for bit."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from resolve311.metrics import calibration
from resolve311.metrics.calibration import COLUMNS, Calibration


def _p_value(history: np.ndarray | None, z: object) -> float:
    """(1 + #{history |score| ≥ |z|}) / (1 + N) for one row: the reference."""
    if history is None or len(history) == 0 or z is None or not isinstance(z, float | int) or math.isnan(z):
        return math.nan
    at_least = len(history) - int(np.searchsorted(history, abs(float(z)), side="left"))
    return (1 + at_least) / (1 + len(history))


def _calibration(rng: np.random.Generator) -> Calibration:
    rows, history = [], {}
    for agency in ("*", "DOT", "NYPD"):
        for window in ("1d", "28d"):
            for metric in ("created_per_day", "ttc_median_h"):
                if (agency, metric) == ("NYPD", "ttc_median_h"):
                    continue  # no calibration: never flagged, p-value NaN
                n = 0 if (agency, window) == ("DOT", "1d") else int(rng.integers(1, 400))
                history[(agency, window, metric)] = np.sort(np.abs(rng.normal(size=n)))
                threshold = math.nan if n < 50 else 3.5 + float(rng.random())
                rows.append([agency, window, metric, n, threshold, 0, 0.0, 0.0, 0.0])
    return Calibration(pd.DataFrame(rows, columns=COLUMNS), history)


def test_apply_equals_the_row_by_row_reference() -> None:
    rng = np.random.default_rng(7)
    cal = _calibration(rng)
    n = 500
    scores = rng.normal(scale=4, size=n)
    scores[3] = scores[5] = math.nan
    history = cal.history[("*", "28d", "created_per_day")]
    scores[7] = float(history[10])  # a tie with a history value (searchsorted "left")
    card = pd.DataFrame(
        {
            "agency": rng.choice(["*", "DOT", "NYPD", "DEP"], size=n),
            "window": rng.choice(["1d", "28d"], size=n),
            "metric": rng.choice(["created_per_day", "ttc_median_h"], size=n),
            "score": scores,
            "small_sample": rng.random(size=n) < 0.2,
        }
    )
    card.loc[7, ["agency", "window", "metric"]] = ["*", "28d", "created_per_day"]
    out = calibration.apply(card, cal)

    table = cal.table.set_index(["agency", "window", "metric"])["threshold"]
    keys = list(zip(card["agency"], card["window"], card["metric"], strict=True))
    want_threshold = [table.get(k, math.nan) for k in keys]
    want_p = [_p_value(cal.history.get(k), z) for k, z in zip(keys, card["score"], strict=True)]
    np.testing.assert_array_equal(
        out["threshold"].to_numpy(dtype=float), np.array(want_threshold, dtype=float)
    )
    np.testing.assert_array_equal(out["p_value"].to_numpy(dtype=float), np.array(want_p, dtype=float))
    assert out["p_value"].notna().sum() > 100  # the comparison covers real p-values, not only NaN
    flagged = card["score"].abs() > pd.Series(want_threshold)
    assert (out["anomaly"] == (flagged & ~card["small_sample"])).all()


def test_nanmedian0_equals_numpys_to_the_bit() -> None:
    rng = np.random.default_rng(11)
    for shape in ((8, 17, 300), (1, 5, 4), (2, 3, 3), (9, 40)):
        values = rng.normal(scale=50, size=shape)
        values[rng.random(size=shape) < 0.3] = np.nan
        values[..., 0] = np.nan  # a column without any value
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanmedian(values, axis=0)
        got = calibration.nanmedian0(values)
        assert np.array_equal(got, want, equal_nan=True)
        assert np.isnan(got[..., 0]).all()
        assert (~np.isnan(got)).sum() > 0
