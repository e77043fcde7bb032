"""Calibrate the anomaly flag on each agency's own history of scores (pure numpy/pandas).

For every agency (and the city), metric and window, the robust score the
scorecard would have published is recomputed for each of 365 days (ending
GUARD_DAYS = 28 days before the as-of date, so an ongoing incident does not
raise its own threshold) from
the daily panel (``panel.py``): the window's value ending that day against the
same window 1..8 whole weeks earlier — the scorecard's rule. The flag's threshold
is the ``1 − target/3`` empirical quantile of |score| over those days (never below
``anomaly_threshold``), so the flag would have fired on at most ``target`` of the
agency's ordinary days. The published false-alarm rate is measured out of sample
(4 folds of 4-week blocks: each fold judged by the threshold of the other three), and every scorecard value gets an empirical p-value against the same
history. Formulas and caveats: docs/metrics.md, "Calibrated anomaly flag".
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from resolve311.metrics.definitions import COHORT_DAYS
from resolve311.metrics.panel import ALL, Panel
from resolve311.metrics.scoring import MAD_SCALE, MIN_SCORE_UNITS, TRIM_MIN_UNITS
from resolve311.metrics.windows import WINDOW_DAYS, WINDOWS, unit_shift

HISTORY_DAYS: Final[int] = 365
#: The history ends this many days before the as-of date, so an ongoing incident (up to 4 weeks
#: old) is not part of the "ordinary" history that sets its own threshold.
GUARD_DAYS: Final[int] = 28
FOLD_BLOCK_DAYS: Final[int] = 28
FOLDS: Final[int] = 4
#: The threshold is the 1 − target/TAIL_MARGIN quantile: a margin for the noise of a 1-in-100 tail
#: estimated from one year (measured out of sample, see _out_of_sample_alarms).
TAIL_MARGIN: Final[float] = 3.0
BACKLOG_WARMUP_DAYS: Final[int] = 90
#: Days of panel needed before the evaluated year: 8 units of 28 days, a window, the longest cohort lag.
PANEL_LOOKBACK_DAYS: Final[int] = GUARD_DAYS + HISTORY_DAYS + 8 * 28 + 28 + max(COHORT_DAYS)
#: Metrics whose history the daily panel can reproduce; the others are not calibrated (never flagged).
CALIBRATED: Final[tuple[str, ...]] = (
    "created_per_day", "closed_per_day", "net_backlog_change_per_day", "backlog_end",
    "ttc_median_h", "ttc_p90_h", *(f"closed_within_{d}d" for d in COHORT_DAYS),
    "admin_close_share", "dirty_share",
)  # fmt: skip
COLUMNS: Final[list[str]] = [
    "agency", "window", "metric", "days_evaluated", "threshold", "false_alarms", "false_alarm_rate",
    "fixed_rule_rate", "mean_score",
]  # fmt: skip


@dataclass(frozen=True)
class CalibrationParams:
    as_of_index: int  # panel column of as_of_date
    history_index: int  # panel column of the history start (may be negative)
    target_rate: float
    floor: float  # anomaly_threshold
    min_group_size: int

    @property
    def min_days(self) -> int:
        """Fewer evaluated days than this cannot measure the target rate: no calibration."""
        return max(50, math.ceil(1 / self.target_rate))


@dataclass
class Calibration:
    """The published table and, per (agency, window, metric), the sorted |scores| of history."""

    table: pd.DataFrame
    history: dict[tuple[str, str, str], np.ndarray]


def _rolling(x: np.ndarray, days: int) -> np.ndarray:
    """Sum over the ``days`` days ending on each column (NaN before a full window)."""
    c = np.concatenate([np.zeros_like(x[:, :1]), np.cumsum(x, axis=1)], axis=1)
    out = np.full(x.shape, np.nan)
    if days <= x.shape[1]:
        out[:, days - 1 :] = c[:, days:] - c[:, : c.shape[1] - days]
    return out


def _shift(x: np.ndarray, days: int) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    if days < x.shape[1]:
        out[:, days:] = x[:, : x.shape[1] - days]
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _hist_quantiles(panel: Panel, days: int, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Quantiles of hours to close over each window, from the rolling histogram (bin resolution);
    the window's histogram and its running sum over the bins made once for every ``q``."""
    cube = panel.hist
    c = np.cumsum(np.concatenate([np.zeros((cube.shape[0], 1, cube.shape[2])), cube], axis=1), axis=1)
    window = np.full(cube.shape, np.nan)
    if days <= cube.shape[1]:
        window[:, days - 1 :, :] = c[:, days:, :] - c[:, : c.shape[1] - days, :]
    total = window.sum(axis=2)
    cum = np.cumsum(np.nan_to_num(window), axis=2)
    out = []
    for q in qs:
        rank = q * np.maximum(total - 1, 0) + 1  # the rank the exact quantile interpolates at
        index = (cum < rank[:, :, None]).sum(axis=2).clip(0, len(panel.bin_hours) - 1)
        out.append(np.where(total > 0, panel.bin_hours[index], np.nan))
    return out


def window_values(panel: Panel, days: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per calibrated metric: (value, n) for the window of ``days`` days ending on each panel day."""
    k = panel.counts
    created, closed = _rolling(k["created"], days), _rolling(k["closed"], days)
    median, p90 = _hist_quantiles(panel, days, (0.5, 0.9))
    out = {
        "created_per_day": (created / days, created),
        "closed_per_day": (closed / days, closed),
        "net_backlog_change_per_day": ((created - closed) / days, created + closed),
        "backlog_end": (k["backlog"], k["backlog"]),
        "ttc_median_h": (median, closed),
        "ttc_p90_h": (p90, closed),
        "admin_close_share": (_ratio(_rolling(k["admin"], days), closed), closed),
        "dirty_share": (_ratio(_rolling(k["dirty"], days), created), created),
    }
    for d in COHORT_DAYS:
        cohort = _shift(created, d)
        out[f"closed_within_{d}d"] = (_ratio(_shift(_rolling(k[f"within_{d}d"], days), d), cohort), cohort)
    return out


def _covered(metric: str, days: int, n_days: int, p: CalibrationParams) -> np.ndarray:
    """Panel days whose window (moved back for cohorts; warmed up for the backlog) lies in history."""
    ends = np.arange(n_days)
    if metric == "backlog_end":
        return ends + 1 >= p.history_index + BACKLOG_WARMUP_DAYS
    lag = (
        int(metric.removeprefix("closed_within_").removesuffix("d"))
        if metric.startswith("closed_within_")
        else 0
    )
    return ends - lag - days + 1 >= p.history_index


def history_scores(value: np.ndarray, n: np.ndarray, days: int, p: CalibrationParams) -> np.ndarray:
    """Robust score of every panel day against its 8 earlier units (NaN where the scorecard has none)."""
    shift = unit_shift(days)
    units = np.stack([_shift(value, k * shift) for k in range(1, 9)])
    unit_n = np.nansum(np.stack([_shift(n, k * shift) for k in range(1, 9)]), axis=0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = nanmedian0(units)
        mad = nanmedian0(np.abs(units - med[None]))
        center = _trimmed_center(units, med)
    enough = (np.sum(~np.isnan(units), axis=0) >= MIN_SCORE_UNITS) & (mad > 0)
    large = (n >= p.min_group_size) & (unit_n >= p.min_group_size)
    with np.errstate(all="ignore"):
        score = (value - center) / (MAD_SCALE * mad)
    return np.where(enough & large & ~np.isnan(value), score, np.nan)


def nanmedian0(values: np.ndarray) -> np.ndarray:
    """``np.nanmedian(values, axis=0)`` to the bit (NaN where a column has no value), by one sort:
    numpy's own path for a short axis goes through masked arrays, several times slower. As numpy:
    the two middle values (the middle one twice for an odd count) summed, then halved."""
    ordered = np.sort(values, axis=0)  # NaN last
    count = (~np.isnan(values)).sum(axis=0)
    high = count // 2
    low = np.where(count % 2 == 1, high, high - 1)
    last = max(values.shape[0] - 1, 0)
    lo = np.take_along_axis(ordered, np.clip(low, 0, last)[None], axis=0)[0]
    hi = np.take_along_axis(ordered, np.clip(high, 0, last)[None], axis=0)[0]
    with np.errstate(invalid="ignore", over="ignore"):
        middle = (lo + hi) / 2.0
    return np.where(count > 0, middle, np.nan)


def _trimmed_center(units: np.ndarray, med: np.ndarray) -> np.ndarray:
    """Mean of the units without the lowest and the highest (≥ TRIM_MIN_UNITS units), else the median."""
    count = np.sum(~np.isnan(units), axis=0)
    ordered = np.sort(units, axis=0)  # NaN last
    total = (
        np.nansum(ordered, axis=0)
        - ordered[0]
        - np.take_along_axis(ordered, np.maximum(count - 1, 0)[None], axis=0)[0]
    )
    trimmed = total / np.maximum(count - 2, 1)
    return np.where(count >= TRIM_MIN_UNITS, trimmed, med)


def threshold(abs_scores: np.ndarray, p: CalibrationParams) -> float:
    """The ``1 − target/3`` empirical quantile of |score| (never below the floor); NaN if too short."""
    n = np.array([len(abs_scores)])
    return float(thresholds(np.sort(abs_scores)[None, :], n, p)[0])


def thresholds(ordered: np.ndarray, n: np.ndarray, p: CalibrationParams) -> np.ndarray:
    """:func:`threshold` of each row's first ``n`` values (``ordered``: each row ascending, then NaN):
    numpy's ``quantile(method="higher")`` to the bit — the value at index ⌈(n − 1)·q⌉."""
    q = 1 - p.target_rate / TAIL_MARGIN
    index = np.ceil((n - 1) * q).astype(np.intp)
    rows = np.arange(len(n))
    value = ordered[rows, np.clip(index, 0, max(ordered.shape[1] - 1, 0))] if ordered.size else np.nan
    return np.where(n >= p.min_days, np.maximum(p.floor, value), np.nan)


def _out_of_sample_alarms(abs_scores: np.ndarray, ok: np.ndarray, p: CalibrationParams) -> np.ndarray:
    """Per row: exceedances when each fold of 4-week blocks (of the panel's days, the columns) is
    judged by the threshold of the other folds; ``ok`` marks each row's evaluated days."""
    fold = (np.arange(abs_scores.shape[1]) // FOLD_BLOCK_DAYS) % FOLDS
    alarms = np.zeros(abs_scores.shape[0], dtype=np.int64)
    for k in range(FOLDS):
        train, test = ok & (fold != k)[None, :], ok & (fold == k)[None, :]
        n_train = train.sum(axis=1)
        t = thresholds(np.sort(np.where(train, abs_scores, np.nan), axis=1), n_train, p)
        t = np.where(n_train >= p.min_days // 2, t, np.nan)
        limit = np.where(np.isnan(t), p.floor, t)
        alarms += (test & (abs_scores > limit[:, None])).sum(axis=1)
    return alarms


def calibrate(panel: Panel, p: CalibrationParams) -> Calibration:
    """Thresholds, measured false-alarm rates and score histories for every group × window × metric."""
    rows: list[dict[str, object]] = []
    history: dict[tuple[str, str, str], np.ndarray] = {}
    n_days = panel.counts["created"].shape[1]
    end = p.as_of_index - GUARD_DAYS
    recent = (np.arange(n_days) > end - HISTORY_DAYS) & (np.arange(n_days) <= end)
    for window in WINDOWS:
        days = WINDOW_DAYS[window]
        for metric, (value, n) in window_values(panel, days).items():
            covered = _covered(metric, days, n_days, p)
            masked = np.where(covered[None, :], value, np.nan)
            scores = history_scores(masked, n, days, p)
            ok = recent[None, :] & ~np.isnan(scores)
            abs_scores = np.abs(np.where(ok, scores, np.nan))
            ordered = np.sort(abs_scores, axis=1)  # each row's evaluated |scores| ascending, NaN last
            evaluated = ok.sum(axis=1)
            t = thresholds(ordered, evaluated, p)
            alarms = _out_of_sample_alarms(abs_scores, ok, p)
            above = (abs_scores > p.floor).sum(axis=1)
            for g, agency in enumerate(panel.groups):
                signed = scores[g][ok[g]]
                rows.append(_row(agency, window, metric, signed, (t[g], alarms[g], above[g]), p))
                history[(agency, window, metric)] = ordered[g, : evaluated[g]]
    return Calibration(pd.DataFrame(rows, columns=COLUMNS), history)


def _row(
    agency: str,
    window: str,
    metric: str,
    signed: np.ndarray,
    measured: tuple[float, int, int],
    p: CalibrationParams,
) -> dict[str, object]:
    """One table row; ``measured``: the threshold, the out-of-sample alarms and the days above the
    floor, of the evaluated days' ``signed`` scores."""
    t, oos_alarms, above = float(measured[0]), int(measured[1]), int(measured[2])
    evaluated = len(signed)
    alarms = oos_alarms if not math.isnan(t) else None
    return {
        "agency": agency,
        "window": window,
        "metric": metric,
        "days_evaluated": evaluated,
        "threshold": t,
        "false_alarms": alarms,
        "false_alarm_rate": (alarms / evaluated) if alarms is not None and evaluated else math.nan,
        "fixed_rule_rate": float(above / evaluated) if evaluated else math.nan,
        "mean_score": float(signed.mean()) if evaluated else math.nan,
    }


def apply(scorecard: pd.DataFrame, cal: Calibration) -> pd.DataFrame:
    """Add ``threshold`` and ``p_value`` and set ``anomaly`` = not small and |score| > threshold.

    Finer groups (agency × type, agency × borough) use their agency's calibration;
    metrics without a calibration (or with too short a history) are never flagged.
    The p-value: (1 + #{history |score| ≥ |z|}) / (1 + N), how unusual |z| is for this agency and
    metric; computed per (agency, window, metric) at once.
    """
    out = scorecard.copy()
    keys = pd.MultiIndex.from_arrays([out["agency"], out["window"], out["metric"]])
    table = cal.table.set_index(["agency", "window", "metric"])["threshold"]
    out["threshold"] = table.reindex(keys).to_numpy(dtype=float)
    out["p_value"] = _p_values(keys, pd.to_numeric(out["score"], errors="coerce").to_numpy(dtype=float), cal)
    flagged = out["score"].abs() > out["threshold"]
    out["anomaly"] = flagged.fillna(False).astype(bool) & ~out["small_sample"].astype(bool)
    return out


def _p_values(keys: pd.MultiIndex, scores: np.ndarray, cal: Calibration) -> np.ndarray:
    """Each row's p-value (see :func:`apply`) against its key's history, one search per key."""
    out = np.full(len(scores), math.nan)
    codes, uniques = pd.factorize(keys)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    for code, key in enumerate(uniques):
        history = cal.history.get(key)
        if history is None or len(history) == 0:
            continue
        rows = order[bounds[code] : bounds[code + 1]]
        z = scores[rows]
        ok = ~np.isnan(z)
        at_least = len(history) - np.searchsorted(history, np.abs(z[ok]), side="left")
        out[rows[ok]] = (1 + at_least) / (1 + len(history))
    return out


def per_metric_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Measured false-alarm rate per window × metric over all agencies (the city row left out)."""
    agencies = table[(table["agency"] != ALL) & table["false_alarms"].notna()]
    grouped = agencies.groupby(["window", "metric"], as_index=False).agg(
        days_evaluated=("days_evaluated", "sum"), false_alarms=("false_alarms", "sum")
    )
    grouped["false_alarm_rate"] = grouped["false_alarms"] / grouped["days_evaluated"].where(
        grouped["days_evaluated"] > 0
    )
    return grouped
