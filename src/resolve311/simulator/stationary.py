"""A stationary simulated city, optionally with injected incidents, as warehouse rows (pure numpy).

Used by the stationary-calibration test and the detection benchmark: a few
agencies with a steady weekly rhythm (no seasons, no trend), over-dispersed
Poisson volumes and log-normal times to close, so any flag on it is a false
alarm — except on the agency-days of an injected incident:

- ``ttc``: requests created in the period take ``factor`` times longer to close;
- ``volume``: ``factor`` times the agency's requests on each day of the period;
- ``backlog``: a share ``1 − 1/factor`` of the closes due in the period are
  withheld until the day after it (a backlog surge).

The data is what a reader would see at ``as_of``: closes after it are not known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final

import numpy as np
import pandas as pd

from resolve311.simulator.incidents import Incident

DAY_S: Final[int] = 86_400
WEEKDAY: Final[tuple[float, ...]] = (1.15, 1.1, 1.05, 1.05, 1.0, 0.8, 0.85)


@dataclass(frozen=True)
class AgencyProfile:
    code: str
    per_day: float  # mean requests per day
    ttc_median_h: float
    ttc_sigma: float = 1.2
    never_closed: float = 0.0  # > 0 makes the backlog grow forever: not stationary
    admin_share: float = 0.03  # closed within 5 minutes (administrative closes)


DEFAULT_AGENCIES: Final[tuple[AgencyProfile, ...]] = (
    AgencyProfile("NYPD", 120, 3.0, 0.9),
    AgencyProfile("HPD", 80, 60.0, 1.1),
    AgencyProfile("DSNY", 60, 30.0, 1.0),
    AgencyProfile("DOT", 40, 90.0, 1.3),
    AgencyProfile("DEP", 25, 48.0, 1.2),
    AgencyProfile("DPR", 12, 120.0, 1.3),
)
#: A larger city: the six above and six more (the detection benchmark and the stationary test).
TWELVE_AGENCIES: Final[tuple[AgencyProfile, ...]] = (
    *DEFAULT_AGENCIES,
    AgencyProfile("DHS", 55, 20.0, 1.0),
    AgencyProfile("DOB", 30, 150.0, 1.2),
    AgencyProfile("DOHMH", 20, 100.0, 1.1),
    AgencyProfile("TLC", 15, 200.0, 1.0),
    AgencyProfile("DCWP", 10, 240.0, 1.0),
    AgencyProfile("EDC", 6, 48.0, 1.0),
)
TYPES: Final[tuple[str, ...]] = ("General", "Other")
BOROUGHS: Final[tuple[str, ...]] = ("BROOKLYN", "QUEENS", "BRONX")


@dataclass(frozen=True)
class City:
    first: date
    last: date  # last complete day; a few requests are created the next morning (the as-of)
    agencies: tuple[AgencyProfile, ...] = DEFAULT_AGENCIES
    scale: float = 1.0
    noise_sigma: float = 0.1  # day-to-day log-normal volume noise (over-dispersion)
    seed: int = 311
    incidents: tuple[Incident, ...] = field(default_factory=tuple)

    @property
    def as_of(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(6))


def _epoch_s(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_S


def _incident_factor(city: City, code: str, metric: str, day: date) -> float:
    factor = 1.0
    for inc in city.incidents:
        if inc.covers(code, metric, day):
            factor *= inc.factor
    return factor


def _agency_rows(city: City, prof: AgencyProfile, rng: np.random.Generator) -> dict[str, np.ndarray]:
    days = [city.first + timedelta(days=i) for i in range((city.last - city.first).days + 2)]
    mean = np.array(
        [
            prof.per_day * city.scale * WEEKDAY[d.weekday()] * _incident_factor(city, prof.code, "volume", d)
            for d in days
        ]
    )
    mean[-1] *= 0.25  # the as-of morning
    counts = rng.poisson(mean * np.exp(rng.normal(0, city.noise_sigma, len(days))))
    day_s = np.repeat([_epoch_s(d) for d in days], counts)
    seconds = rng.integers(0, DAY_S if len(days) else 1, len(day_s))
    seconds[day_s == _epoch_s(days[-1])] %= 6 * 3600
    created = day_s + seconds
    ttc_h = np.exp(np.log(prof.ttc_median_h) + prof.ttc_sigma * rng.normal(0, 1, len(created)))
    created_day = [city.first + timedelta(days=int(i)) for i in (day_s - _epoch_s(city.first)) // DAY_S]
    ttc_h *= (
        np.array([_incident_factor(city, prof.code, "ttc", d) for d in created_day]) if len(created) else 1
    )
    admin = rng.random(len(created)) < prof.admin_share
    ttc_h = np.where(admin, rng.uniform(0, 5 / 60, len(created)), ttc_h)
    close = created + (ttc_h * 3600).astype(np.int64)
    close = _withhold(city, prof.code, close)
    close = np.where(rng.random(len(created)) < prof.never_closed, -1, close)
    return {"created": created, "close": close}


def _withhold(city: City, code: str, close: np.ndarray) -> np.ndarray:
    """Backlog incidents: delay a share 1 − 1/factor of the closes due in the period to the day after it."""
    rng = np.random.default_rng([city.seed, 7])
    for inc in city.incidents:
        if inc.agency != code or inc.metric != "backlog":
            continue
        start, stop = _epoch_s(inc.first), _epoch_s(inc.last) + DAY_S
        due = (close >= start) & (close < stop)
        held = due & (rng.random(len(close)) < 1 - 1 / inc.factor)
        close = np.where(held, stop + (close - start) % DAY_S, close)
    return close


def warehouse_rows(city: City, source: str = "nyc") -> pd.DataFrame:
    """The city's requests as the warehouse holds them at ``city.as_of`` (columns of ``requests``)."""
    rng = np.random.default_rng(city.seed)
    parts = []
    for prof in city.agencies:
        cols = _agency_rows(city, prof, rng)
        n = len(cols["created"])
        parts.append(
            pd.DataFrame(
                {
                    "agency": prof.code,
                    "complaint_type": np.array(TYPES)[rng.integers(0, len(TYPES), n)],
                    "borough": np.array(BOROUGHS)[rng.integers(0, len(BOROUGHS), n)],
                    "created_s": cols["created"],
                    "close_s": cols["close"],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    as_of_s = _epoch_s(city.as_of.date()) + 6 * 3600
    frame = frame[frame["created_s"] <= as_of_s].reset_index(drop=True)
    known = (frame["close_s"] >= 0) & (frame["close_s"] <= as_of_s)
    created = pd.to_datetime(frame["created_s"], unit="s")
    closed = pd.to_datetime(frame["close_s"].where(known), unit="s")
    c_utc = _to_utc(created)
    k_utc = _to_utc(closed)
    out = pd.DataFrame(
        {
            "unique_key": [f"S{i}" for i in range(len(frame))],
            "created_date": created,
            "closed_date": closed,
            "agency": frame["agency"],
            "agency_name": frame["agency"] + " (simulated)",
            "complaint_type": frame["complaint_type"],
            "borough": frame["borough"],
            "status": np.where(known, "Closed", "Open"),
            "latitude": 40.7,
            "longitude": -73.95,
            "source": source,
            "created_utc": c_utc,
            "closed_utc": k_utc,
            "hours_to_close": (k_utc - c_utc).dt.total_seconds() / 3600,
            "is_closed": known.to_numpy(),
            "dirty_flags": [[] for _ in range(len(frame))],
            "source_updated_at": k_utc.fillna(c_utc),
            "row_hash": [f"h{i}" for i in range(len(frame))],
            "batch_seq": 1,
            "loaded_at": datetime(2030, 1, 1),
        }
    )
    return out


def _to_utc(local: pd.Series) -> pd.Series:
    aware = local.dt.tz_localize(
        "America/New_York", ambiguous=np.zeros(len(local), dtype=bool), nonexistent="shift_forward"
    )
    out: pd.Series = aware.dt.tz_convert("UTC").dt.tz_localize(None)
    return out
