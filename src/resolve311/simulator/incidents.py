"""Injected incidents: ``AGENCY:metric:factor:FROM..TO`` (``resolve311 simulate --incident``).

``metric`` is ``ttc`` (requests created in the period take ``factor`` times
longer to close), ``volume`` (``factor`` times the agency's requests each day)
or ``backlog`` (a share ``1 − 1/factor`` of the closes due in the period are
withheld until the day after it). Dates are simulated local days, inclusive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np

from resolve311.errors import ConfigError

Columns = dict[str, np.ndarray]

INCIDENT_METRICS: Final[tuple[str, ...]] = ("ttc", "volume", "backlog")


@dataclass(frozen=True)
class Incident:
    agency: str
    metric: str
    factor: float
    first: date
    last: date

    def covers(self, agency: str, metric: str, day: date) -> bool:
        return self.agency == agency and self.metric == metric and self.first <= day <= self.last


def parse_incident(spec: str) -> Incident:
    """``"DSNY:ttc:2.0:2026-10-01..2026-10-14"`` -> Incident (ConfigError with the reason otherwise)."""
    parts = spec.strip().split(":")
    if len(parts) != 4:
        raise ConfigError(f"bad --incident {spec!r}: expected AGENCY:METRIC:FACTOR:FROM..TO")
    agency, metric, factor_text, period = (p.strip() for p in parts)
    if not agency:
        raise ConfigError(f"bad --incident {spec!r}: the agency is empty")
    if metric not in INCIDENT_METRICS:
        raise ConfigError(f"bad --incident {spec!r}: metric must be one of {', '.join(INCIDENT_METRICS)}")
    try:
        factor = float(factor_text)
    except ValueError:
        raise ConfigError(f"bad --incident {spec!r}: factor {factor_text!r} is not a number") from None
    if not 0 < factor <= 100:
        raise ConfigError(f"bad --incident {spec!r}: factor must be in (0, 100]")
    first_text, sep, last_text = period.partition("..")
    try:
        if not sep:
            raise ValueError
        first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
    except ValueError:
        raise ConfigError(f"bad --incident {spec!r}: expected FROM..TO with ISO dates") from None
    if first > last:
        raise ConfigError(f"bad --incident {spec!r}: FROM is after TO")
    return Incident(agency.upper(), metric, factor, first, last)


def parse_incidents(specs: tuple[str, ...] | list[str]) -> tuple[Incident, ...]:
    return tuple(parse_incident(s) for s in specs)


#: Keys of the extra requests a volume incident adds: INCIDENT_KEY_ORIGIN + day index * 100,000 + j.
INCIDENT_KEY_ORIGIN: Final[int] = 900_000_000
MAX_EXTRA_PER_DAY: Final[int] = 99_999
DAY_S: Final[int] = 86_400
NA: Final[int] = np.iinfo(np.int64).min


def _day_s(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_S


def _shift_close(cols: Columns, mask: np.ndarray, new_close: np.ndarray) -> None:
    """Move the close of ``mask`` rows to ``new_close``; the published close and late edits follow."""
    old = cols["close_at"]
    delta = np.where(mask, new_close - old, 0)
    cols["closed_value"] = np.where(mask & (cols["closed_value"] == old), new_close, cols["closed_value"])
    cols["edit_at"] = np.where(mask & (cols["edit_at"] != NA), cols["edit_at"] + delta, cols["edit_at"])
    cols["close_at"] = np.where(mask, new_close, old)


def _stretch(cols: Columns, agency: int, factor: float) -> None:
    mask = (cols["agency"] == agency) & (cols["close_at"] != NA)
    ttc = np.where(mask, cols["close_at"] - cols["created"], 0)
    _shift_close(cols, mask, cols["created"] + (ttc * factor).astype(np.int64))


def _withhold(cols: Columns, agency: int, inc: Incident, rng: np.random.Generator) -> None:
    start, stop = _day_s(inc.first), _day_s(inc.last) + DAY_S
    close = cols["close_at"]
    due = (cols["agency"] == agency) & (close != NA) & (close >= start) & (close < stop)
    held = due & (rng.random(len(close)) < 1 - 1 / inc.factor)
    _shift_close(cols, held, stop + (close - start) % DAY_S)


def apply_incidents(
    cols: Columns, day: date, incidents: tuple[Incident, ...], agencies: list[str], seed: int
) -> Columns:
    """The rows created on ``day`` with the incidents applied (time to close stretched, closes withheld)."""
    for inc in incidents:
        if inc.agency not in agencies:
            continue
        agency = agencies.index(inc.agency)
        if inc.metric == "ttc" and inc.first <= day <= inc.last:
            _stretch(cols, agency, inc.factor)
        elif inc.metric == "backlog" and day <= inc.last:
            _withhold(cols, agency, inc, np.random.default_rng([seed, day.toordinal(), 97]))
    return cols


def extra_volume(
    make_day: Callable[[int, date, int, int], Columns],
    day: date,
    n_day: int,
    day_index: int,
    incidents: tuple[Incident, ...],
    agencies: list[str],
    seed: int,
) -> Columns | None:
    """Extra requests of the agencies with a volume incident on ``day`` (None when there is none).

    A whole extra day of ``(factor − 1) × n_day`` requests is generated with its own
    seed and only the incident agency's rows are kept, so they look like its own.
    """
    parts = []
    for i, inc in enumerate(incidents):
        if inc.metric != "volume" or not inc.first <= day <= inc.last or inc.agency not in agencies:
            continue
        n_extra = min(MAX_EXTRA_PER_DAY, round(max(inc.factor - 1, 0) * n_day))
        if n_extra == 0:
            continue
        cols = make_day(seed + 7919 * (i + 1), day, n_extra, 0)
        keep = cols["agency"] == agencies.index(inc.agency)
        parts.append({name: values[keep] for name, values in cols.items()})
    if not parts:
        return None
    merged = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    n = len(merged["key"])
    merged["key"] = (INCIDENT_KEY_ORIGIN + day_index * (MAX_EXTRA_PER_DAY + 1) + np.arange(n)).astype(
        np.int64
    )
    return merged
