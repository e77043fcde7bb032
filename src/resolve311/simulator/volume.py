"""How many requests each day gets, and the unique keys they are issued.

Counts depend only on (seed, scale, date): the whole calendar from EPOCH to
HORIZON is drawn at once, so any range of days comes out the same whichever
range was asked for, and keys (issued in order from KEY_ORIGIN) never collide.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from resolve311.simulator import calibration as cal

EPOCH = date(2010, 1, 1)
HORIZON = date(2040, 12, 31)
KEY_ORIGIN = 14_000_000
#: Re-keyed rows get keys from here on: REKEY_ORIGIN + day_index * 1000 + j.
REKEY_ORIGIN = 500_000_000
MAX_DAILY = 1_000_000


def _yearly_mean(days: np.ndarray) -> np.ndarray:
    """Mean daily volume on each day (fractional day index from EPOCH), interpolated between years."""
    years = np.array(sorted(cal.DAILY_VOLUME_BY_YEAR), dtype=float)
    means = np.array([cal.DAILY_VOLUME_BY_YEAR[int(y)] for y in years], dtype=float)
    mid_year = np.array([(date(int(y), 7, 1) - EPOCH).days for y in years], dtype=float)
    interpolated: np.ndarray = np.interp(days, mid_year, means)
    return interpolated


def _holiday_factor(dates: list[date]) -> np.ndarray:
    factor = np.ones(len(dates))
    for i, d in enumerate(dates):
        if (d.month, d.day) in {(1, 1), (12, 25), (7, 4)}:
            factor[i] = 0.6
        elif d.month == 11 and d.weekday() == 3 and 22 <= d.day <= 28:  # Thanksgiving
            factor[i] = 0.55
    return factor


@lru_cache(maxsize=8)
def calendar_counts(seed: int, scale: float) -> np.ndarray:
    """Requests created on every day from EPOCH to HORIZON (int64 array)."""
    n_days = (HORIZON - EPOCH).days + 1
    rng = np.random.default_rng([seed, 20100101])
    index = np.arange(n_days, dtype=float)
    dates = [EPOCH + timedelta(days=i) for i in range(n_days)]
    weekday = np.array([cal.WEEKDAY_FACTOR[d.weekday()] for d in dates])
    day_of_year = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    season = 1 + cal.SEASON_VOLUME_AMPLITUDE * np.cos(2 * np.pi * (day_of_year - 196) / 365.25)
    storm = np.where(
        rng.random(n_days) < cal.STORM_DAY_PROBABILITY,
        rng.uniform(*cal.STORM_FACTOR_RANGE, n_days),
        1.0,
    )
    noise = np.exp(rng.normal(0.0, cal.DAILY_NOISE_SIGMA, n_days))
    expected = _yearly_mean(index) * weekday * season * storm * noise * _holiday_factor(dates) * scale
    counts = rng.poisson(np.maximum(expected, 0.0))
    capped: np.ndarray = np.minimum(counts, MAX_DAILY).astype(np.int64)
    return capped


def day_index(day: date) -> int:
    """Days since EPOCH; raises ValueError outside EPOCH..HORIZON."""
    index = (day - EPOCH).days
    if not 0 <= index <= (HORIZON - EPOCH).days:
        raise ValueError(f"date {day} outside the simulated calendar {EPOCH}..{HORIZON}")
    return index


def counts_and_key_starts(seed: int, scale: float, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
    """(requests per day, first unique key of each day) for first..last inclusive."""
    counts = calendar_counts(seed, scale)
    start, stop = day_index(first), day_index(last) + 1
    key_starts = KEY_ORIGIN + np.concatenate([[0], np.cumsum(counts)])[start:stop]
    return counts[start:stop], key_starts
