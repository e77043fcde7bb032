"""calibration's thresholds and out-of-sample alarms, vectorised over the agencies, equal the
per-agency reference (the form ``calibrate`` had: ``np.quantile(method="higher")`` per agency and
per fold) bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from resolve311.metrics import calibration
from resolve311.metrics.calibration import FOLD_BLOCK_DAYS, FOLDS, TAIL_MARGIN, CalibrationParams

PARAMS = CalibrationParams(as_of_index=500, history_index=0, target_rate=0.01, floor=3.5, min_group_size=5)


def _threshold(abs_scores: np.ndarray, p: CalibrationParams) -> float:
    if len(abs_scores) < p.min_days:
        return math.nan
    q = float(np.quantile(abs_scores, 1 - p.target_rate / TAIL_MARGIN, method="higher"))
    return max(p.floor, q)


def _alarms(abs_scores: np.ndarray, days: np.ndarray, p: CalibrationParams) -> int:
    fold = (days // FOLD_BLOCK_DAYS) % FOLDS
    alarms = 0
    for k in range(FOLDS):
        train, test = fold != k, fold == k
        t = _threshold(abs_scores[train], p) if train.sum() >= p.min_days // 2 else math.nan
        limit = p.floor if math.isnan(t) else t
        alarms += int((abs_scores[test] > limit).sum())
    return alarms


def _scores(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per agency a year of |scores| with gaps; rows too short for a threshold, or for a fold's."""
    days = 400
    scores = np.abs(rng.standard_t(3, size=(7, days))) * 2
    keep = rng.random(size=scores.shape) < np.array([1.0, 0.9, 0.5, 0.2, 0.12, 0.05, 0.0])[:, None]
    keep[1, 100:180] = False  # a fold's block left empty
    scores[2, :60] = PARAMS.floor  # ties at the floor
    return scores, keep


def _same(got: float, want: float) -> bool:
    """Equal to the bit, or both NaN (too few days for a threshold)."""
    return bool(got == want) or (math.isnan(got) and math.isnan(want))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_thresholds_and_alarms_equal_the_per_agency_reference(seed: int) -> None:
    scores, ok = _scores(np.random.default_rng(seed))
    abs_scores = np.where(ok, scores, np.nan)
    ordered = np.sort(abs_scores, axis=1)
    got_t = calibration.thresholds(ordered, ok.sum(axis=1), PARAMS)
    got_alarms = calibration._out_of_sample_alarms(abs_scores, ok, PARAMS)
    for g in range(len(scores)):
        kept = scores[g][ok[g]]
        want = _threshold(kept, PARAMS)
        assert _same(got_t[g], want)
        assert _same(calibration.threshold(kept, PARAMS), want)  # the one-row form bench/detection uses
        assert got_alarms[g] == _alarms(kept, np.flatnonzero(ok[g]), PARAMS)
    assert not np.isnan(got_t[:2]).any()  # the long rows are calibrated, the empty one not
    assert np.isnan(got_t[-1])
