"""The shapes of the synthetic snapshot: agencies, groups, and the large per-cell tables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

WINDOWS = {"1d": 1, "7d": 7, "28d": 28}
BASELINES = ("8w", "1y")
BOROUGHS = {
    "MANHATTAN": (40.78, -73.97, 0.05),
    "BROOKLYN": (40.65, -73.95, 0.07),
    "QUEENS": (40.72, -73.82, 0.09),
    "BRONX": (40.85, -73.87, 0.05),
    "STATEN ISLAND": (40.58, -74.14, 0.06),
}
GRID_DEG = 0.02
HOSTILE_TYPE = "<script>window.__xss=1</script>"
HOSTILE_NAME = '<img src=x onerror="window.__xss=2">Hostile Agency'


@dataclass(frozen=True)
class AgencySpec:
    code: str
    name: str
    per_day: float
    shift: float  # relative change of the recent window
    ttc_h: float
    types: tuple[str, ...]


DEFAULT_AGENCIES = (
    AgencySpec(
        "NYPD",
        "New York City Police Department",
        2400,
        0.04,
        3.0,
        ("Noise - Residential", "Illegal Parking", "Blocked Driveway"),
    ),
    AgencySpec(
        "HPD",
        "Department of Housing Preservation and Development",
        1400,
        0.38,
        120.0,
        ("HEAT/HOT WATER", "PLUMBING", "UNSANITARY CONDITION"),
    ),
    AgencySpec(
        "DSNY",
        "Department of Sanitation",
        700,
        -0.22,
        40.0,
        ("Missed Collection", "Dirty Condition", "Illegal Dumping"),
    ),
    AgencySpec(
        "DOT",
        "Department of Transportation",
        550,
        0.12,
        70.0,
        ("Street Condition", "Street Light Condition", "Traffic Signal Condition"),
    ),
    AgencySpec(
        "DEP", "Department of Environmental Protection", 380, -0.06, 90.0, ("Water System", "Noise", "Sewer")
    ),
    AgencySpec(
        "DPR",
        "Department of Parks and Recreation",
        260,
        0.02,
        150.0,
        ("Damaged Tree", "Overgrown Tree/Branches", "New Tree Request"),
    ),
    AgencySpec(
        "DOB",
        "Department of Buildings",
        180,
        0.09,
        300.0,
        ("General Construction/Plumbing", "Building/Use", "Elevator"),
    ),
    AgencySpec("TLC", "Taxi and Limousine Commission", 0.4, 0.5, 200.0, ("For Hire Vehicle Complaint",)),
)


@dataclass(frozen=True)
class SnapshotSpec:
    as_of_date: date = date(2026, 11, 27)
    agencies: tuple[AgencySpec, ...] = DEFAULT_AGENCIES
    unavailable_since: datetime | None = None
    hostile_text: bool = False
    seed: int = 311
    windows: tuple[str, ...] = field(default=("1d", "7d", "28d"))
    source: str = "nyc"
    #: The city's main area dimension: value -> (lat, lon, radius in degrees of its disc).
    areas: Mapping[str, tuple[float, float, float]] = field(default_factory=lambda: dict(BOROUGHS))
    timezone: str = "America/New_York"


@dataclass(frozen=True)
class Group:
    agency: str
    complaint_type: str
    borough: str
    share: float
    spec: AgencySpec
    boroughs: tuple[str, ...]


def _hour_profile(code: str) -> np.ndarray:
    hours = np.arange(24)
    peak = 22 if code == "NYPD" else 10
    prof = np.exp(-(((hours - peak) % 24 - 0) ** 2) / 40) + np.exp(-((hours - 14) ** 2) / 30) + 0.15
    return prof / prof.sum()


def heatmap_when(spec: SnapshotSpec, groups: list[Group], rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    weekday, hour = np.meshgrid(np.arange(7), np.arange(24), indexing="ij")
    for g in groups:
        day_factor = np.array([1.15, 1.1, 1.05, 1.0, 1.0, 0.85, 0.85])[:, None]
        base = g.spec.per_day * g.share * day_factor * _hour_profile(g.agency)[None, :]
        for w in spec.windows:
            for b in BASELINES:
                hot = (hour >= 18) & (weekday < 5) if g.spec.shift > 0.2 else np.zeros_like(hour, dtype=bool)
                recent = base * (1 + g.spec.shift * np.where(hot, 2.0, 0.4)) * rng.normal(1, 0.05, base.shape)
                frames.append(
                    _cells(g, w, b, {"weekday": weekday.ravel(), "hour": hour.ravel()}, recent, base)
                )
    return _finish(pd.concat(frames, ignore_index=True))


def _where_cells(
    areas: Mapping[str, tuple[float, float, float]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    south = min(a[0] - a[2] for a in areas.values())
    north = max(a[0] + a[2] for a in areas.values())
    west = min(a[1] - a[2] / 0.76 for a in areas.values())
    east = max(a[1] + a[2] / 0.76 for a in areas.values())
    lats = np.arange(round(south, 2), north, GRID_DEG) + GRID_DEG / 2
    lons = np.arange(round(west, 2), east, GRID_DEG) + GRID_DEG / 2
    lat, lon = (m.ravel() for m in np.meshgrid(lats, lons, indexing="ij"))
    owner = np.full(lat.shape, -1)
    best = np.full(lat.shape, np.inf)
    for i, (blat, blon, radius) in enumerate(areas.values()):
        dist = np.hypot(lat - blat, (lon - blon) * 0.76) / radius
        closer = (dist < 1.0) & (dist < best)
        owner[closer], best[closer] = i, dist[closer]
    keep = owner >= 0
    return np.round(lat[keep], 4), np.round(lon[keep], 4), owner[keep]


def heatmap_where(spec: SnapshotSpec, groups: list[Group], rng: np.random.Generator) -> pd.DataFrame:
    lat, lon, owner = _where_cells(spec.areas)
    names = list(spec.areas)
    north = float(np.median(lat))
    frames = []
    for g in groups:
        mask = np.array([names[o] in g.boroughs for o in owner])
        weight = rng.gamma(2.0, 1.0, mask.sum())
        base = g.spec.per_day * g.share * weight / weight.sum()
        for w in spec.windows:
            for b in BASELINES:
                hot = lat[mask] > north if g.spec.shift > 0.2 else np.zeros(mask.sum(), dtype=bool)
                recent = base * (1 + g.spec.shift * np.where(hot, 2.5, 0.3)) * rng.normal(1, 0.08, base.shape)
                frames.append(_cells(g, w, b, {"cell_lat": lat[mask], "cell_lon": lon[mask]}, recent, base))
    return _finish(pd.concat(frames, ignore_index=True))


def _cells(
    g: Group, w: str, b: str, keys: dict[str, np.ndarray], recent: np.ndarray, hist: np.ndarray
) -> pd.DataFrame:
    recent, hist = np.maximum(recent.ravel(), 0), hist.ravel()
    frame = pd.DataFrame(
        {
            "agency": g.agency,
            "complaint_type": g.complaint_type,
            "borough": g.borough,
            "window": w,
            "baseline": b,
            **keys,
        }
    )
    return frame.assign(recent=recent, historical=hist, difference=recent - hist)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("weekday", "hour"):
        if col in frame:
            frame[col] = frame[col].astype("int32")
    return frame


def series(spec: SnapshotSpec, groups: list[Group], rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range(end=pd.Timestamp(spec.as_of_date), periods=400, freq="D")
    weeks = pd.date_range(end=pd.Timestamp(spec.as_of_date), periods=156, freq="W-MON")
    frames = []
    for g in groups:
        level = g.spec.per_day * g.share
        season = 1 + 0.2 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 20) / 365)
        dow = np.array([1.15, 1.1, 1.05, 1.0, 1.0, 0.85, 0.85])[days.day_of_week.to_numpy()]
        expected = level * season * dow
        created = expected * rng.normal(1, 0.07, len(days))
        created[-7:] *= 1 + g.spec.shift
        closed = np.roll(created, 1) * 0.97
        frames.append(
            pd.DataFrame(
                {
                    "agency": g.agency,
                    "complaint_type": g.complaint_type,
                    "borough": g.borough,
                    "period": "day",
                    "date": days.date,
                    "created": created.round(),
                    "closed": closed.round(),
                    "baseline_low": expected * 0.86,
                    "baseline_mid": expected,
                    "baseline_high": expected * 1.14,
                }
            )
        )
        wk = (
            level
            * 7
            * (1 + 0.2 * np.sin(2 * np.pi * (weeks.day_of_year.to_numpy() - 20) / 365))
            * rng.normal(1, 0.05, len(weeks))
        )
        frames.append(
            pd.DataFrame(
                {
                    "agency": g.agency,
                    "complaint_type": g.complaint_type,
                    "borough": g.borough,
                    "period": "week",
                    "date": weeks.date,
                    "created": wk.round(),
                    "closed": (wk * 0.97).round(),
                    "baseline_low": np.nan,
                    "baseline_mid": np.nan,
                    "baseline_high": np.nan,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def km(spec: SnapshotSpec, groups: list[Group]) -> pd.DataFrame:
    steps = np.array([0, 1, 2, 4, 8, 12, 24, 48, 72, 120, 168, 240, 336, 504, 720], dtype=float)
    rows = []
    for g in groups:
        n = g.spec.per_day * g.share
        for w in spec.windows:
            tau_h = g.spec.ttc_h * 1.44
            tau_r = tau_h * (1 + max(g.spec.shift, 0) * 0.8)
            limit = 24 * WINDOWS[w]
            for cohort, tau, size in (
                ("recent", tau_r, n * WINDOWS[w]),
                ("historical", tau_h, n * WINDOWS[w] * 8),
            ):
                for t in steps:
                    if cohort == "recent" and t > limit:
                        break
                    surv = math.exp(-t / tau)
                    rows.append(
                        {
                            "agency": g.agency,
                            "complaint_type": g.complaint_type,
                            "borough": g.borough,
                            "window": w,
                            "cohort": cohort,
                            "t_hours": t,
                            "survival": surv,
                            "at_risk": round(size * surv),
                        }
                    )
    return pd.DataFrame(rows)


#: A Chicago-like city for several-city tests: its departments, types and community areas.
CHICAGO_AGENCIES = (
    AgencySpec(
        "Streets and Sanitation",
        "Department of Streets and Sanitation",
        900,
        0.25,
        60.0,
        (
            "Graffiti Removal Request",
            "Rodent Baiting/Rat Complaint",
            "Garbage Cart Maintenance",
            "Tree Emergency",
        ),
    ),
    AgencySpec(
        "CDOT - Department of Transportation",
        "Chicago Department of Transportation",
        420,
        0.08,
        90.0,
        ("Pothole in Street Complaint", "Street Light Out Complaint"),
    ),
    AgencySpec(
        "DWM - Department of Water Management",
        "Department of Water Management",
        160,
        -0.1,
        110.0,
        ("Water On Street Complaint", "Sewer Cleaning Inspection Request"),
    ),
    AgencySpec("Aviation", "Department of Aviation", 70, 0.02, 2.0, ("Aircraft Noise Complaint",)),
    AgencySpec("Outside Agencies", "Outside Agencies", 0.5, 0.4, 200.0, ("E-Scooter Parking Complaint",)),
)
#: Community areas (number -> approximate centre, radius).
CHICAGO_AREAS = {
    "25": (41.894, -87.765, 0.06),  # Austin
    "8": (41.900, -87.632, 0.029),  # Near North Side
    "28": (41.873, -87.668, 0.048),  # Near West Side
    "24": (41.901, -87.680, 0.034),  # West Town
    "6": (41.944, -87.654, 0.034),  # Lake View
    "43": (41.762, -87.575, 0.036),  # South Shore
    "49": (41.705, -87.622, 0.043),  # Roseland
    "29": (41.861, -87.717, 0.031),  # North Lawndale
    "66": (41.773, -87.695, 0.034),  # Chicago Lawn
    "71": (41.742, -87.655, 0.038),  # Auburn Gresham
    "16": (41.954, -87.722, 0.031),  # Irving Park
    "76": (41.978, -87.905, 0.048),  # O'Hare
}
CHICAGO = {
    "source": "chicago",
    "agencies": CHICAGO_AGENCIES,
    "areas": CHICAGO_AREAS,
    "timezone": "America/Chicago",
}


TTC_BUCKETS = (*((f"closed_d{k}", k - 1, k) for k in range(1, 8)), ("closed_d14", 7, 14), ("closed_d30", 14, 30),
               ("closed_d60", 30, 60), ("closed_d90", 60, 90), ("closed_later", 90, 10_000))  # fmt: skip


def type_days(spec: SnapshotSpec, rng: np.random.Generator) -> pd.DataFrame:
    """Per complaint type × day: created, closed per time-to-close bucket (exponential), still open."""
    days = pd.date_range(end=pd.Timestamp(spec.as_of_date), periods=400, freq="D")
    age = (len(days) - np.arange(len(days))).astype(float)  # days from creation to the end of as-of
    rows = []
    for a in spec.agencies:
        tau = a.ttc_h / 24
        for i, t in enumerate(a.types):
            created = rng.poisson(max(a.per_day * 0.5 / (i + 1), 0.01), len(days)).astype(float)
            created[-28:] *= 1 + a.shift
            created = np.rint(created)
            frame = {"complaint_type": t, "date": days.date, "created": created.astype("int64")}
            closed_total = np.zeros(len(days))
            for name, low, high in TTC_BUCKETS:
                top = np.minimum(high, age)
                share = np.where(top > low, np.exp(-low / tau) - np.exp(-top / tau), 0.0)
                frame[name] = np.rint(created * share).astype("int64")
                closed_total += frame[name]
            frame["closed_untimed"] = np.zeros(len(days), dtype="int64")
            frame["open_now"] = np.maximum(created - closed_total, 0).astype("int64")
            rows.append(pd.DataFrame(frame))
    return pd.concat(rows, ignore_index=True)


#: A San-Francisco-like city: its queues, types and supervisor districts.
SF_AGENCIES = (
    AgencySpec("DPW Ops Queue", "Public Works Operations", 620, 0.12, 50.0,
               ("Street and Sidewalk Cleaning", "Graffiti", "Street Defects")),
    AgencySpec("Parking Enforcement Dispatch Queue", "SFMTA Parking Enforcement", 210, -0.05, 4.0,
               ("Parking Enforcement", "Abandoned Vehicle")),
    AgencySpec("HSOC Queue", "Healthy Streets Operations Center", 80, 0.3, 100.0, ("Encampments",)),
    AgencySpec("PUC Sewer Ops", "Public Utilities Commission Sewer Operations", 40, 0.0, 30.0, ("Sewer Issues",)),
)  # fmt: skip
SF_AREAS = {
    "1": (37.780, -122.485, 0.025), "2": (37.797, -122.440, 0.022), "3": (37.800, -122.410, 0.016),
    "4": (37.752, -122.495, 0.023), "5": (37.775, -122.440, 0.018), "6": (37.780, -122.400, 0.02),
    "7": (37.735, -122.465, 0.025), "8": (37.755, -122.432, 0.018), "9": (37.745, -122.412, 0.018),
    "10": (37.733, -122.390, 0.025), "11": (37.716, -122.445, 0.022),
}  # fmt: skip
SF = {"source": "sf", "agencies": SF_AGENCIES, "areas": SF_AREAS, "timezone": "America/Los_Angeles"}
